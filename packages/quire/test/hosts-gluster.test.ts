/**
 * Several hosts, one volume: three `quire serve` instances on three client hosts of a GlusterFS replica-3 volume
 * (rig/gluster.sh in @quire/testkit), under strict and under default client caching. Concurrent POSTs retried with
 * their nonce on other instances, likes and edits, a brick killed and restarted, an instance SIGKILLed; then
 * every acknowledged comment is listed whole by every instance, none twice, counts agree, fsck is clean, and a
 * comment acknowledged on one host is listed on another within the documented bound.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { glusterMissing, requireOrSkip } from '@quire/testkit';
import { FRESHNESS_MS, hostsScenario } from './fixtures/hosts-scenario.js';

for (const profile of ['strict', 'default'] as const) {
  test(`three hosts on GlusterFS (${profile} client caching): nothing acknowledged lost or doubled, fresh within ${FRESHNESS_MS[profile]} ms`, async (t) => {
    const missing = glusterMissing();
    if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
    const r = await hostsScenario(profile, { posts: 120, concurrency: 12, seed: 13, freshProbes: 6 });
    assert.equal(r.report.acked.size, 120);
    t.diagnostic(
      `${profile}: ${r.report.failures.length} answers retried on another instance; ` +
        `${r.freshAtOnce}/${r.freshProbes} listed elsewhere on the first GET`,
    );
  });
}
