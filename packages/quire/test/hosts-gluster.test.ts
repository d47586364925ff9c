/**
 * Several hosts, one volume: three `quire serve` instances on three client hosts of a GlusterFS replica-3 volume
 * (rig/hosts.sh in @quire/testkit), under strict and under default client caching. Concurrent POSTs retried with
 * their nonce on other instances, likes and edits, a brick killed and restarted, an instance SIGKILLed; then
 * every acknowledged comment is listed whole by every instance, none twice, counts agree, fsck is clean, and a
 * comment acknowledged on one host is listed on another within the documented bound.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireOrSkip, rigMissing } from '@quire/testkit';
import { FRESHNESS_MS, hostsScenario } from './fixtures/hosts-scenario.js';

/** The retried answers by kind: status and problem code, or the connection error. */
function retryKinds(failures: readonly string[]): string {
  const kinds = new Map<string, number>();
  for (const f of failures) {
    const m = /: (\d{3}) .*?"code":"([^"]+)"/.exec(f) ?? /after \d+ ms: (.*)$/.exec(f);
    const kind = m === null ? f : m.slice(1).join(' ');
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds].map(([k, n]) => `${k} ×${n}`).join(', ');
}

for (const profile of ['strict', 'default'] as const) {
  test(`three hosts on GlusterFS (${profile} client caching): nothing acknowledged lost or doubled, fresh within ${FRESHNESS_MS[profile]} ms`, async (t) => {
    const missing = rigMissing();
    if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
    const r = await hostsScenario(profile, {
      // Past 100 nonce claims in one thread: a marker anchor fills (GlusterFS caps links at 100 per inode).
      posts: 110,
      pages: 1,
      concurrency: 12,
      seed: 13,
      freshProbes: 4,
    });
    assert.equal(r.report.acked.size, 110);
    t.diagnostic(
      `${profile}: ${r.report.failures.length} answers retried on another instance (${retryKinds(r.report.failures)}); ` +
        `${r.freshAtOnce}/${r.freshProbes} listed elsewhere on the first GET`,
    );
  });
}
