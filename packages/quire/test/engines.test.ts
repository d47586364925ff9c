/**
 * Every installed package must run on every Node version we claim. npm only warns (EBADENGINE) when one does
 * not, and only on the Node it runs on, so a dependency that drops Node 20 slips in unnoticed on a newer
 * machine. This test checks each installed package's `engines.node` against the lowest version our root
 * package.json claims, and against the Node running the test.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The repository root: this file is packages/quire/dist/test/engines.test.js. */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

interface Manifest {
  name?: string;
  version?: string;
  engines?: { node?: string };
  workspaces?: string[];
}

function readManifest(dir: string): Manifest {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
}

type Version = [number, number, number];
/** A version with missing or wildcard parts (`20`, `10.*`, `1.x`) as undefined. */
type Partial = [number | undefined, number | undefined, number | undefined];

function parsePartial(text: string): Partial {
  const parts = text.replace(/^v/, '').split('-')[0]!.split('.');
  const part = (k: number): number | undefined => {
    const p = parts[k];
    return p === undefined || p === '' || p === 'x' || p === 'X' || p === '*' ? undefined : Number(p);
  };
  const out: Partial = [part(0), part(1), part(2)];
  for (const n of out) if (n !== undefined && !Number.isInteger(n)) throw new Error(`not a version: ${text}`);
  return out;
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** The partial version with its missing parts set to 0. */
function floor(p: Partial): Version {
  return [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0];
}

/** The first version above every version the partial one stands for (`1.2` → 1.3.0), or null for `*`. */
function ceiling(p: Partial): Version | null {
  if (p[0] === undefined) return null;
  if (p[1] === undefined) return [p[0] + 1, 0, 0];
  if (p[2] === undefined) return [p[0], p[1] + 1, 0];
  return [p[0], p[1], p[2] + 1];
}

/** Whether `v` satisfies one comparator such as `>=20`, `^20.17.0`, `~1.2`, `10.*` or `<22`. */
function satisfiesComparator(comparator: string, v: Version): boolean {
  const m = /^(>=|<=|>|<|=|\^|~)?(.*)$/.exec(comparator)!;
  const op = m[1] ?? '';
  const p = parsePartial(m[2]!);
  const lo = floor(p);
  const hi = ceiling(p);
  const below = (limit: Version | null): boolean => limit === null || compare(v, limit) < 0;
  switch (op) {
    case '>=':
      return compare(v, lo) >= 0;
    case '>':
      return hi === null ? false : compare(v, hi) >= 0;
    case '<':
      return p[0] === undefined ? false : compare(v, lo) < 0;
    case '<=':
      return below(hi);
    case '^': {
      const major = lo[0];
      const limit: Version | null =
        p[0] === undefined
          ? null
          : major > 0 || p[1] === undefined
            ? [major + 1, 0, 0]
            : lo[1] > 0 || p[2] === undefined
              ? [0, lo[1] + 1, 0]
              : [0, 0, lo[2] + 1];
      return compare(v, lo) >= 0 && below(limit);
    }
    case '~':
      return compare(v, lo) >= 0 && below(p[1] === undefined ? hi : [lo[0], lo[1] + 1, 0]);
    default:
      return compare(v, lo) >= 0 && below(hi);
  }
}

/** Whether `version` satisfies an npm semver range (`||` alternatives of space-separated comparators). */
function admits(range: string, version: string): boolean {
  const v = floor(parsePartial(version));
  return range.split('||').some((alternative) => {
    const text = alternative.trim().replace(/([<>=~^]+)\s+/g, '$1');
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(text);
    const comparators = hyphen ? [`>=${hyphen[1]}`, `<=${hyphen[2]}`] : text.split(/\s+/).filter(Boolean);
    return comparators.every((c) => satisfiesComparator(c, v));
  });
}

/** Every installed package.json under the node_modules folders of the workspaces, nested ones included. */
function installedPackages(): { id: string; node: string | undefined }[] {
  const found: { id: string; node: string | undefined }[] = [];
  const visit = (modules: string): void => {
    if (!fs.existsSync(modules)) return;
    for (const name of fs.readdirSync(modules)) {
      if (name.startsWith('.')) continue;
      const dir = path.join(modules, name);
      // A link is a workspace package (checked on its own below); following it would visit its tree twice.
      if (fs.lstatSync(dir).isSymbolicLink()) continue;
      if (name.startsWith('@')) {
        visit(dir);
        continue;
      }
      if (fs.existsSync(path.join(dir, 'package.json'))) {
        const pkg = readManifest(dir);
        found.push({
          id: `${pkg.name}@${pkg.version} (${path.relative(root, dir)})`,
          node: pkg.engines?.node,
        });
      }
      visit(path.join(dir, 'node_modules'));
    }
  };
  for (const w of ['.', ...(readManifest(root).workspaces ?? [])]) visit(path.join(root, w, 'node_modules'));
  return found;
}

test('the range check reads the ranges found in real packages', () => {
  assert.equal(admits('>=20', '20.0.0'), true);
  assert.equal(admits('>=22', '20.19.0'), false);
  assert.equal(admits('^20.17.0 || >=22.9.0', '20.0.0'), false);
  assert.equal(admits('^20.17.0 || >=22.9.0', '20.17.0'), true);
  assert.equal(admits('^22.22.2 || ^24.15.0 || >=26.0.0', '24.1.0'), false);
  assert.equal(admits('^14.17.0 || ^16.13.0 || >=18.0.0', '20.0.0'), true);
  assert.equal(admits('10.* || >= 12.*', '20.0.0'), true);
  assert.equal(admits('10.* || >= 12.*', '11.2.0'), false);
  assert.equal(admits('>= 0.8', '20.0.0'), true);
  assert.equal(admits('>=9.4.0 || ^8.9.4', '8.10.0'), true);
  assert.equal(admits('~1.2.3', '1.3.0'), false);
  assert.equal(admits('>=18 <20', '20.0.0'), false);
  assert.equal(admits('18 - 20', '20.5.0'), true);
  assert.equal(admits('*', '20.0.0'), true);
});

test('every installed package runs on the lowest Node we claim and on this one', () => {
  const claimed = readManifest(root).engines?.node ?? '';
  const lowest = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(claimed.trim())?.[1];
  assert.ok(lowest, `the root package.json's engines.node should read ">=N", not ${claimed}`);
  for (const pkg of ['packages/fs', 'packages/quire']) {
    assert.equal(
      readManifest(path.join(root, pkg)).engines?.node,
      claimed,
      `${pkg}/package.json claims what the root claims`,
    );
  }
  const packages = installedPackages();
  assert.ok(packages.length > 50, `found only ${packages.length} installed packages: is npm ci done?`);
  const refused = packages.flatMap(({ id, node }) =>
    [lowest, process.versions.node]
      .filter((v) => node !== undefined && !admits(node, v))
      .map((v) => `${id} needs node ${node}, not ${v}`),
  );
  assert.deepEqual(refused, [], `claimed node ${claimed}`);
});
