import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatStamp } from '@quire/fs';
import { prng } from '@quire/testkit';
import {
  type CommentRecord,
  CommentStore,
  DEFAULT_CONFIG,
  Importer,
  normaliseUri,
  type SourceItem,
  textHashOf,
  threadIdOf,
  tombstone,
} from 'quire';

/** What the generated site is made of; everything else follows from these and the seed. */
export interface SiteParams {
  comments: number;
  threads: number;
  /** Comments of the biggest thread. */
  big: number;
}

/** A thread of the generated site: its page and how many comments it has. */
export interface SiteThread {
  uri: string;
  threadId: string;
  comments: number;
}

/** What a generated (or cached) site holds, written next to it as `site.json`. */
export interface Site {
  dir: string;
  params: SiteParams;
  /** Biggest first: the order of the power law. */
  threads: SiteThread[];
  pending: number;
  deleted: number;
  replies: number;
  voted: number;
  /** Seconds the generation took (0 when it came from the cache of an earlier run). */
  generatedSeconds: number;
  /** Seconds the first generation took, as recorded then. */
  firstGeneratedSeconds: number;
}

/** Bumped whenever the generator changes what it writes: an old cache is then made anew. */
const GENERATOR_VERSION = 1;
const MANIFEST = 'site.json';
/** Replies nest up to this depth (top level is 0). */
const MAX_DEPTH = 5;
/** Shares of comments, as the issue sets them (pending: about 1,000 in the full site). */
const REPLY_SHARE = 0.2;
const PENDING_SHARE = 0.001;
const DELETED_SHARE = 0.005;
const VOTED_SHARE = 0.1;
/** The exponent of the thread sizes' power law: with 10,000 threads most get under 100 comments. */
const ZIPF_S = 0.85;

/** The site of the issue at `scale` (1 = 1,000,000 comments in 10,000 threads, the biggest 50,000). */
export function siteParams(scale: number): SiteParams {
  return {
    comments: Math.max(100, Math.round(1_000_000 * scale)),
    threads: Math.max(10, Math.round(10_000 * scale)),
    big: Math.max(20, Math.round(50_000 * scale)),
  };
}

/** Where generated sites are kept between runs: $QUIRE_BENCH_CACHE, else under the temp directory. */
export function cacheRoot(): string {
  return process.env.QUIRE_BENCH_CACHE ?? path.join(os.tmpdir(), 'quire-bench-cache');
}

/** Thread sizes by a power law, biggest first: the first exactly `big`, the total exactly `comments`. */
export function threadSizes(p: SiteParams): number[] {
  const weights = Array.from({ length: p.threads - 1 }, (_, i) => (i + 2) ** -ZIPF_S);
  const sum = weights.reduce((a, b) => a + b, 0);
  const rest = p.comments - p.big;
  const sizes = [p.big, ...weights.map((w) => Math.max(1, Math.floor((w / sum) * rest)))];
  // What flooring left over goes one comment each to the biggest threads after the first.
  let left = p.comments - sizes.reduce((a, b) => a + b, 0);
  for (let i = 1; left > 0; i = (i % (p.threads - 1)) + 1, left--) sizes[i] = (sizes[i] as number) + 1;
  return sizes;
}

const WORDS =
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore'.split(
    ' ',
  );

interface Counts {
  pending: number;
  deleted: number;
  replies: number;
  voted: number;
}

/** When thread `index` starts: threads start at different times. */
function threadStart(index: number): number {
  return Date.UTC(2016, 0, 1) + index * 3_613_000;
}

/** The stem of comment `j` of thread `index`: a thread's comments are 37 s apart, so every stem is `-0`. */
export function commentStem(index: number, j: number): string {
  return `${formatStamp(threadStart(index) + j * 37_000)}-0`;
}

/** The comments of one thread as our own export's items: stems chosen here, records complete. */
function* threadItems(
  t: SiteThread,
  index: number,
  rnd: () => number,
  counts: Counts,
): Generator<SourceItem> {
  const start = threadStart(index);
  const created = new Date(start).toISOString();
  yield {
    kind: 'exported-thread',
    thread: { id: t.threadId, meta: { uri: t.uri, title: `Post ${index}`, created } },
  };
  const stems: string[] = [];
  const depth = new Uint8Array(t.comments);
  for (let j = 0; j < t.comments; j++) {
    const ms = start + j * 37_000;
    const stem = commentStem(index, j);
    stems.push(stem);
    let parent: string | null = null;
    if (j > 0 && rnd() < REPLY_SHARE) {
      // A recent comment, or its top-level ancestor's sibling when that one is already 5 deep.
      const k = j - 1 - Math.floor(rnd() * Math.min(j, 50));
      if ((depth[k] as number) < MAX_DEPTH) {
        parent = stems[k] as string;
        depth[j] = (depth[k] as number) + 1;
        counts.replies++;
      }
    }
    const words = 20 + Math.floor(rnd() * 60);
    let text = `Comment ${j} on post ${index}:`;
    for (let w = 0; w < words; w++) text += ` ${WORDS[Math.floor(rnd() * WORDS.length)]}`;
    const at = new Date(ms).toISOString();
    const roll = rnd();
    const status = roll < PENDING_SHARE ? 'pending' : 'approved';
    let record: CommentRecord = {
      v: 1,
      parent,
      author: `Reader ${Math.floor(rnd() * 5000)}`,
      email: null,
      website: null,
      text,
      status,
      created: at,
      edited: null,
      deleted: null,
      ip: '192.0.2.0',
      ipHash: null,
      nonce: null,
      textHash: textHashOf(text),
    };
    if (status === 'pending') counts.pending++;
    else if (roll < PENDING_SHARE + DELETED_SHARE) {
      record = tombstone(record, at);
      counts.deleted++;
    }
    const votes = [];
    if (record.status === 'approved' && rnd() < VOTED_SHARE) {
      counts.voted++;
      const n = rnd() < 0.8 ? 1 : 2 + Math.floor(rnd() * 8);
      for (let v = 0; v < n; v++) {
        const voter = Math.floor(rnd() * 2 ** 52)
          .toString(16)
          .padStart(13, '0');
        votes.push({ voter: `${voter}${v}`, content: `${JSON.stringify({ at })}\n` });
      }
    }
    yield {
      kind: 'exported-comment',
      comment: { thread: t.threadId, stem, record, votes, where: `${index}/${j}` },
    };
  }
}

/** The pages of the site, biggest thread first. */
function siteThreads(p: SiteParams): SiteThread[] {
  return threadSizes(p).map((comments, i) => {
    const uri = normaliseUri(
      `https://site.example/posts/${i}`,
      DEFAULT_CONFIG.uri,
      DEFAULT_CONFIG.limits.uriChars,
    );
    return { uri, threadId: threadIdOf(uri), comments };
  });
}

/**
 * The site of `p`, from the cache if an earlier run made it (a directory named by the parameters and the
 * generator's version, with `site.json` written last), else generated through the import path (port/importer.ts,
 * our own export's items: exact names, likes as vote files) into a temp directory renamed into place when done.
 * Written without fsync: a cache, made again if a crash cut it short.
 */
export async function ensureSite(p: SiteParams, say: (s: string) => void): Promise<Site> {
  const name = `site-v${GENERATOR_VERSION}-${p.comments}c-${p.threads}t-${p.big}b`;
  const dir = path.join(cacheRoot(), name);
  const manifest = path.join(dir, MANIFEST);
  if (fs.existsSync(manifest)) {
    const site = JSON.parse(fs.readFileSync(manifest, 'utf8')) as Site;
    return { ...site, dir, generatedSeconds: 0 };
  }
  fs.mkdirSync(cacheRoot(), { recursive: true });
  const tmp = path.join(cacheRoot(), `.${name}.${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  const started = performance.now();
  const threads = siteThreads(p);
  const counts: Counts = { pending: 0, deleted: 0, replies: 0, voted: 0 };
  const store = await CommentStore.open(tmp, { durable: false });
  const importer = new Importer(store, {
    format: 'quire',
    uri: DEFAULT_CONFIG.uri,
    uriChars: DEFAULT_CONFIG.limits.uriChars,
    textChars: DEFAULT_CONFIG.limits.textChars,
    progressEvery: 50_000,
    onProgress: (s) => say(`[site] ${s.comments} of ${p.comments} comments written`),
  });
  const rnd = prng(16); // seeded: every run of the same parameters makes the same site
  async function* items(): AsyncGenerator<SourceItem> {
    for (let i = 0; i < threads.length; i++) yield* threadItems(threads[i] as SiteThread, i, rnd, counts);
  }
  const summary = await importer.run(items());
  if (summary.skipped > 0)
    throw new Error(`site generator: ${summary.skipped} comments skipped: ${summary.skippedList[0]?.reason}`);
  const seconds = (performance.now() - started) / 1000;
  const site: Site = {
    dir: tmp,
    params: p,
    threads,
    ...counts,
    generatedSeconds: seconds,
    firstGeneratedSeconds: seconds,
  };
  fs.writeFileSync(path.join(tmp, MANIFEST), JSON.stringify(site));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return { ...site, dir };
}
