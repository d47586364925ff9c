import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createUnique } from '@quire/fs';
import autocannon from 'autocannon';

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'service-worker.js');
const PAGE = 'https://blog.example/posts/benchmark';

export interface ServiceResult {
  posts: number;
  postRate: number;
  libraryRate: number;
  getRate: number;
  bareRate: number;
  threadBytes: number;
  non2xx: number;
}

async function start(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [worker, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(line.trim());
    });
    child.on('exit', (code) => reject(new Error(`service worker exited ${code}`)));
  });
  return { child, url };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * One autocannon run, with the time from its start to its last response (ms). In `amount` mode autocannon's own
 * `duration` is no use for a rate: it reports only at its next 1 s sample tick after the last response, so
 * 400 requests done in 0.3 s read as 1.01 s (at most 396/s), and 2000 in 2.1 s as 3.0 s.
 */
function cannon(opts: autocannon.Options): Promise<{ result: autocannon.Result; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let last = t0;
    const instance = autocannon(opts, (err, result) =>
      err ? reject(err) : resolve({ result, ms: last - t0 }),
    );
    instance.on('response', () => {
      last = performance.now();
    });
  });
}

/** Durable createUnique with `inFlight` calls at once into one directory: the library's own rate. */
async function libraryRate(dir: string, n: number, inFlight: number): Promise<number> {
  fs.mkdirSync(dir, { recursive: true });
  const body = JSON.stringify({ text: 'x'.repeat(300) });
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < n) await createUnique(dir, body, { suffix: '.json' });
    }),
  );
  return n / ((performance.now() - t) / 1000);
}

/**
 * Issue 5's two ratios, measured in one run: durable POSTs with 32 connections against the library's durable
 * createUnique with 32 calls in flight, and GETs of a 200-comment thread against a bare node:http server
 * answering the same bytes.
 */
export async function serviceBench(root: string, posts: number, seconds: number): Promise<ServiceResult> {
  const lib = await libraryRate(path.join(root, 'library'), posts, 32);
  const { child, url } = await start(['quire', path.join(root, 'data')]);
  try {
    let i = 0;
    const { result: post, ms: postMs } = await cannon({
      url: `${url}/api/comments`,
      connections: 32,
      amount: posts,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      requests: [
        {
          setupRequest: (req) => ({
            ...req,
            body: JSON.stringify({
              uri: PAGE,
              author: 'bench',
              text: `comment ${i++} ${randomBytes(8).toString('hex')} ${'lorem ipsum '.repeat(20)}`,
              nonce: randomBytes(12).toString('hex'),
            }),
          }),
        },
      ],
    });
    // Timed like libraryRate: from the start to the last answer.
    const postRate = post['2xx'] / (postMs / 1000);
    // The thread now holds `posts` comments; the page of 200 is what a reader's browser asks for.
    const listUrl = `${url}/api/comments?uri=${encodeURIComponent(PAGE)}&limit=200`;
    const res = await fetch(listUrl);
    const body = Buffer.from(await res.arrayBuffer());
    const bodyFile = path.join(root, 'thread.json');
    fs.writeFileSync(bodyFile, body);
    // Fixed durations end on autocannon's own timer and count every answer until its report: `duration` is fair.
    const { result: get } = await cannon({ url: listUrl, connections: 10, duration: seconds });
    const bare = await start(['bare', bodyFile]);
    let bareRun: autocannon.Result;
    try {
      bareRun = (await cannon({ url: bare.url, connections: 10, duration: seconds })).result;
    } finally {
      await stop(bare.child);
    }
    return {
      posts: post['2xx'],
      postRate,
      libraryRate: lib,
      getRate: get['2xx'] / get.duration,
      bareRate: bareRun['2xx'] / bareRun.duration,
      threadBytes: body.length,
      non2xx: post.non2xx + get.non2xx,
    };
  } finally {
    await stop(child);
  }
}
