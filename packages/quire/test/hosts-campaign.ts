/**
 * `npm run hosts-campaign [-- --rounds N --posts N --concurrency N --profile strict|default]`: the multi-host test
 * (hosts-gluster.test.ts) longer — more POSTs per round, several rounds, each on a fresh rig, both caching profiles
 * unless one is named. Prints what happens and a summary; exits 1 at the first round that fails. Root only.
 */
import { parseArgs } from 'node:util';
import { type CachingProfile, rigMissing } from '@quire/testkit';
import { hostsScenario } from './fixtures/hosts-scenario.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    posts: { type: 'string', default: '600' },
    concurrency: { type: 'string', default: '24' },
    profile: { type: 'string' },
  },
});
const profiles: CachingProfile[] =
  values.profile === undefined ? ['strict', 'default'] : [values.profile as CachingProfile];
const missing = rigMissing();
if (missing !== undefined) {
  process.stderr.write(`hosts-campaign: ${missing}\n`);
  process.exit(2);
}
const t0 = Date.now();
const say = (line: string) =>
  process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const profile of profiles) {
    const r = await hostsScenario(profile, {
      posts: Number(values.posts),
      pages: 3,
      concurrency: Number(values.concurrency),
      seed: 1000 + round,
      freshProbes: 20,
      heal: true,
      say,
    });
    say(
      `round ${round} ${profile}: ${r.report.acked.size} acknowledged and found on every instance, fsck clean; ` +
        `${r.report.failures.length} answers retried elsewhere; ${r.freshAtOnce}/${r.freshProbes} fresh on the first GET`,
    );
    for (const f of r.report.failures.slice(0, 20)) say(`  retried: ${f}`);
  }
}
say('hosts-campaign: every round passed');
