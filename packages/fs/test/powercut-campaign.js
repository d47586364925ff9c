/**
 * `npm run crash-campaign -- --cuts N [--fs ext4,xfs] [--writers 3]`: the power-cut campaign of powercut.ts,
 * as many cuts as asked, with a progress line per cut and a summary table at the end. Exits 1 if anything was
 * lost, partial or otherwise out of place, 2 on bad arguments or when it cannot run here (root and tools).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { addCut, cannotRun, DEFAULT_LANES, DEFAULT_MAX_ACKS, DEFAULT_WRITERS, emptyTotals, FS_TYPES, formatProgress, formatTable, PowerCutCampaign, } from './powercut.js';
const HELP = `Usage: npm run crash-campaign -- [--cuts N] [--fs ext4,xfs] [--writers W] [options]

Cuts the power N times on each filesystem and checks a spool after each cut. Per cut: a 256 MiB image is
loop-mounted and formatted afresh; W writer processes (L operations in flight each) append sealed records
(100 B-64 KiB), append with idempotency keys (and retry them), and update a few shared records to new
versions, logging every operation outside the image before it starts and once it is acknowledged; upon a
random number (0..K) of acknowledgements, 'xfs_io -x -c shutdown' cuts the power; the writers are killed,
the filesystem unmounted and mounted again (journal replay), and the spool checked. Columns:

  acknowledged ops  operations acknowledged before the cut: each must survive it
  acked after cut   acknowledgements stamped after the shutdown was asked for; a process outlives a
                    shutdown (unlike a power cut) and xfs even reports success for a directory fsync racing
                    it, so these count as operations in flight, which may or may not survive
  lost              acknowledged operations missing or holding other content, and updated records found
                    older than their last acknowledged version
  partial           record names whose content does not verify (every payload is sha256-sealed)
  repaired          issues check({ repair: true }) fixed (dead writers' temps, unfinished keys)
  other             anything else: a record nobody wrote, a duplicate, a keyed retry that disagrees after
                    the cut, check() not clean after repair, a writer that failed before the cut
  unclean           what check({ repair: true }) left behind although check() then reports clean: dead
                    writers' temps in .keys/, empty key id files (counted, but only --strict fails on them)

Options:
  --cuts N        cuts per filesystem (default 20)
  --fs LIST       comma-separated filesystems among ${FS_TYPES.join(', ')} (default all)
  --writers W     writer processes per cut (default ${DEFAULT_WRITERS})
  --lanes L       operations in flight per writer (default ${DEFAULT_LANES})
  --max-acks K    the cut comes upon the k-th acknowledgement, k random in 0..K (default ${DEFAULT_MAX_ACKS})
  --no-fsync      control run: the writers' spool is not durable (no fsync), so losses must show up
  --strict        exit 1 on unclean leftovers too
  --quiet         no progress line per cut, only findings and the table
  -h, --help      this text

Needs root, losetup, mount, mkfs.ext4, mkfs.xfs and xfs_io (apt-get install -y xfsprogs). Exit status: 0 when
every cut checked out, 1 when anything was lost, partial or other, 2 when it could not run.`;
function fail(message) {
    process.stderr.write(`crash-campaign: ${message}\n\n${HELP}\n`);
    process.exit(2);
}
function count(name, value, fallback, min) {
    if (value === undefined)
        return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
        fail(`--${name} must be an integer >= ${min}, got ${value}`);
    return n;
}
function parse() {
    return parseArgs({
        options: {
            cuts: { type: 'string' },
            fs: { type: 'string' },
            writers: { type: 'string' },
            lanes: { type: 'string' },
            'max-acks': { type: 'string' },
            'no-fsync': { type: 'boolean' },
            strict: { type: 'boolean' },
            quiet: { type: 'boolean' },
            help: { type: 'boolean', short: 'h' },
        },
        strict: true,
        allowPositionals: false,
    });
}
let args;
try {
    args = parse();
}
catch (err) {
    fail(err.message);
}
const v = args.values;
if (v.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
}
const cuts = count('cuts', v.cuts, 20, 1);
const writers = count('writers', v.writers, DEFAULT_WRITERS, 1);
const lanes = count('lanes', v.lanes, DEFAULT_LANES, 1);
const maxAcks = count('max-acks', v['max-acks'], DEFAULT_MAX_ACKS, 0);
const durable = v['no-fsync'] !== true;
const fsTypes = (v.fs ?? FS_TYPES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
for (const f of fsTypes) {
    if (!FS_TYPES.includes(f))
        fail(`unknown filesystem ${f}`);
}
if (fsTypes.length === 0)
    fail('--fs names no filesystem');
const reason = cannotRun();
if (reason !== null) {
    process.stderr.write(`crash-campaign: cannot run here: ${reason}\n`);
    process.exit(2);
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-crash-campaign-'));
let current;
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
        if (interrupted)
            return;
        interrupted = true;
        process.stderr.write(`crash-campaign: ${sig}: unmounting and detaching, then exiting\n`);
        (current?.close() ?? Promise.resolve()).then(() => {
            fs.rmSync(work, { recursive: true, force: true });
            process.exit(130);
        }, (err) => {
            process.stderr.write(`crash-campaign: ${String(err)}; left ${work}\n`);
            process.exit(130);
        });
    });
}
/** Lost, partial, other and late findings in full; unclean ones summed up by kind. */
function printFindings(r) {
    const unclean = new Map();
    for (const line of r.findings) {
        const m = /^unclean: ([^:]+):/.exec(line);
        if (m)
            unclean.set(m[1], (unclean.get(m[1]) ?? 0) + 1);
        else
            process.stdout.write(`  [${r.fs}] cut ${r.cut}: ${line}\n`);
    }
    if (unclean.size > 0) {
        const kinds = [...unclean].map(([kind, n]) => `${n} ${kind}`).join(', ');
        process.stdout.write(`  [${r.fs}] cut ${r.cut}: unclean after repair, unreported by check(): ${kinds}\n`);
    }
}
const rows = [];
const started = Date.now();
process.stdout.write(`crash-campaign: ${cuts} cuts on ${fsTypes.join(', ')}, ${writers} writers x ${lanes} lanes, cut upon 0..${maxAcks} acknowledgements${durable ? '' : ', CONTROL RUN without fsync'}; work dir ${work}\n`);
try {
    for (const f of fsTypes) {
        const row = emptyTotals(f);
        rows.push(row);
        const campaign = new PowerCutCampaign({
            fs: f,
            cuts,
            writers,
            lanes,
            maxAcks,
            durable,
            workDir: work,
            onCut: (r) => {
                addCut(row, r);
                if (!v.quiet)
                    process.stdout.write(`${formatProgress(r, cuts)}\n`);
                printFindings(r);
            },
        });
        current = campaign;
        await campaign.run();
    }
}
catch (err) {
    // After SIGINT or SIGTERM the campaign fails on purpose; the signal handler cleans up and exits.
    if (interrupted)
        await new Promise(() => { });
    process.stderr.write(`crash-campaign: ${String(err?.stack ?? err)}\n`);
    await current?.close().catch(() => { });
    process.stdout.write(`\n${formatTable(rows)}\n`);
    process.stderr.write(`crash-campaign: stopped by the error above; logs in ${work}\n`);
    process.exit(2);
}
process.stdout.write(`\n${formatTable(rows)}\n\ntotal ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
const bad = rows.reduce((n, r) => n + r.lost + r.partial + r.other, 0);
const unclean = rows.reduce((n, r) => n + r.unclean, 0);
if (unclean > 0) {
    process.stdout.write(`crash-campaign: ${unclean} leftovers that check({ repair: true }) neither reported nor removed (unclean)\n`);
}
if (bad > 0 || (v.strict && unclean > 0)) {
    process.stdout.write(`crash-campaign: FAILED (${bad} lost, partial or other); writers' logs of failed cuts kept under ${work}\n`);
    process.exit(1);
}
fs.rmSync(work, { recursive: true, force: true });
process.stdout.write(`crash-campaign: no acknowledged operation lost, no partial record in ${cuts} cuts each\n`);
//# sourceMappingURL=powercut-campaign.js.map