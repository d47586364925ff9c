/** What the service case measures, and its table in the report. */
import type { LoadTool } from './load.js';
import { fmtRate, fmtRatio } from './stats.js';

/** A filesystem the POSTs are measured on. */
export interface Place {
  label: string;
  /** What `df -T` says it is. */
  fs: string;
  /**
   * Gets ext4's TOPDIR flag where it can: each round's library, quire and bare directories, and their warm-ups,
   * then land in block groups of their own. On ext4 without a journal every create scans past the inodes its
   * group freed in the last seconds (lib/scratch.ts), and each publish frees its temp's inode: in one group,
   * each phase ran behind the thousands of inodes the phase before it had just freed (createUnique measured
   * anywhere from 2000/s to 6900/s in back-to-back rounds).
   */
  dir: string;
}

export interface PostResult {
  place: Place;
  /** Medians over the rounds. */
  postRate: number;
  libraryRate: number;
  /** node:http doing one createUnique per POST and nothing else. */
  barePostRate: number;
  /** Median of the per-round ratios POST / createUnique. */
  ratio: number;
  /** Median of the per-round ratios bare POST / createUnique: the ceiling of any HTTP service here. */
  bareRatio: number;
  /** Issue 15: POSTs with notifications on, delivered by no process (the outbox append alone). */
  appendRate: number;
  /** Median of the per-round ratios append / off. */
  appendRatio: number;
  /** Issue 15: POSTs with notifications on, a webhook per event delivered by the same process. */
  notifyRate: number;
  /** Median of the per-round ratios notifications on / off. */
  notifyRatio: number;
  /** Issue 16: median of the per-window ratios quire POST / bare node:http + createUnique (alternating windows). */
  ceilingRatio: number;
  /** Fastify with a validated body and one createUnique per POST: the framework's own cost. */
  fastifyRate: number;
  /** Median of the per-window ratios Fastify / bare node:http. */
  fastifyRatio: number;
  /**
   * Issue 17: p50 latency (ms) of one POST at a time, quire, bare node:http and Fastify each doing one
   * createUnique per POST (alternating windows).
   */
  p50: { quire: number; bare: number; fastify: number };
  /** Issue 16: CPU per POST at 32 connections (medians of the rounds' window medians). */
  cpu: PostCpu;
  /** Issue 17: CPU per POST one at a time, the same servers (the generator's is not needed there). */
  cpuOne: PostCpu;
  posts: number;
  bad: number;
}

/**
 * CPU time per 2xx POST at 32 connections, µs: each server process (every thread: event loop, threadpool,
 * the addon's threads, GC) and the load generator. On two vCPUs shared by all of them, POSTs/s is bounded by
 * vCPUs / (server + generator), which is what the ceiling ratio is made of.
 */
export interface PostCpu {
  quire: number;
  bare: number;
  fastify: number;
  generator: number;
}

/**
 * The server CPU per POST that 0.85× of the bare server's rate leaves quire where the CPUs are the limit:
 * rate ∝ 1 / (server + generator), so quire may spend (bare + generator) / 0.85 − generator.
 */
export function ceilingBudgetUs(c: PostCpu): number {
  return (c.bare + c.generator) / 0.85 - c.generator;
}

/**
 * What p50 ≤ 1.2× of the bare server leaves quire, one POST at a time: nothing overlaps then (the request is
 * read, checked, published, answered, and only then does the next one come), so a POST's latency is the bare
 * server's plus the server CPU it spends beyond the bare server's, and 1.2× leaves 0.2× bare's p50 for that.
 */
export function oneAtATimeBudgetUs(p50BareMs: number): number {
  return 0.2 * p50BareMs * 1000;
}

export interface GetResult {
  getRate: number;
  bareRate: number;
  ratio: number;
  threadBytes: number;
  bad: number;
}

export interface ServiceResult {
  tool: LoadTool;
  posts: PostResult[];
  get: GetResult;
  /** Places that could not be measured, and why. */
  skipped: string[];
}

/** Issue 16: where the POSTs' CPU goes, and what the 0.85× target leaves quire of it. */
function cpuRows(c: PostCpu, bareRate: number): string[] {
  const us = (x: number) => `${x.toFixed(0)} µs`;
  const busy = ((c.bare + c.generator) * bareRate) / 1e6;
  return [
    `| issue 16: CPU per POST at 32 connections, the server process (every thread), quire / bare node:http / ` +
      `Fastify (same windows) | ${us(c.quire)} / ${us(c.bare)} / ${us(c.fastify)} | quire ${fmtRatio(c.quire / c.bare)} ` +
      `of bare, ${fmtRatio(c.quire / c.fastify)} of Fastify | — |`,
    `| the load generator's CPU per POST (same windows); vCPUs busy with bare + generator at bare's rate | ` +
      `${us(c.generator)} | ${busy.toFixed(2)} vCPUs | — |`,
    `| what 0.85× of bare leaves quire's server per POST where the vCPUs are the limit: (bare + generator) / 0.85 − ` +
      `generator | ${us(ceilingBudgetUs(c))} | quire uses ${fmtRatio(c.quire / ceilingBudgetUs(c))} of it; Fastify alone ` +
      `${fmtRatio(c.fastify / ceilingBudgetUs(c))} | — |`,
  ];
}

/** Issue 17: the CPU one POST at a time spends beyond the bare server's, and what 1.2× of its p50 leaves. */
function oneAtATimeRows(p: PostResult): string[] {
  const c = p.cpuOne;
  const budget = oneAtATimeBudgetUs(p.p50.bare);
  const us = (x: number) => `${x.toFixed(0)} µs`;
  return [
    `| issue 17: CPU per POST one at a time, the server process (every thread), quire / bare node:http / Fastify ` +
      `(same windows) | ${us(c.quire)} / ${us(c.bare)} / ${us(c.fastify)} | quire ${fmtRatio(c.quire / c.bare)} of bare | — |`,
    `| what a p50 of 1.2× bare leaves quire's server per POST beyond bare's CPU (nothing overlaps one at a time): ` +
      `0.2 × bare's p50 | ${us(budget)} | quire spends ${us(c.quire - c.bare)} more than bare (` +
      `${fmtRatio((c.quire - c.bare) / budget)} of it); Fastify alone ${us(c.fastify - c.bare)} | — |`,
  ];
}

/** The service case's table, in Markdown: a row per figure, with its ratio and target. */
export function serviceTable(service: ServiceResult): string[] {
  const rows = ['| what | req/s or ms | ratio | target |', '|---|--:|--:|---|'];
  for (const p of service.posts) {
    const where = `${p.place.label}: ${p.place.fs}`;
    rows.push(
      `| durable POST /api/comments, 32 connections, ${where} | ${fmtRate(p.postRate)} | ` +
        `${fmtRatio(p.ratio)} of createUnique with 32 in flight there (${fmtRate(p.libraryRate)}/s) | — |`,
      `| the ceiling there: bare node:http doing one durable createUnique per POST, nothing else (alternating ` +
        `windows with quire) | ${fmtRate(p.barePostRate)} | quire is ${fmtRatio(p.ceilingRatio)} of it | >= 0.85 (issue 16) |`,
      `| Fastify with a validated body doing the same, nothing else (same windows) | ${fmtRate(p.fastifyRate)} | ` +
        `${fmtRatio(p.fastifyRatio)} of bare node:http | — |`,
      `| issue 15: quire with notifications on, the outbox append before each answer (delivered by no process: ` +
        `notify.deliver false; same windows) | ${fmtRate(p.appendRate)} | ${fmtRatio(p.appendRatio)} of notifications off | >= 0.85 |`,
      `| issue 15: the same, with a webhook per event delivered by the same process | ` +
        `${fmtRate(p.notifyRate)} | ${fmtRatio(p.notifyRatio)} of notifications off | — |`,
      `| issue 17: one POST at a time (1 connection), p50 latency, quire against bare node:http (alternating ` +
        `windows) | ${p.p50.quire.toFixed(2)} ms vs ${p.p50.bare.toFixed(2)} ms | ${fmtRatio(p.p50.quire / p.p50.bare)} | <= 1.2 |`,
      `| the same for Fastify with a validated body doing one createUnique per POST, nothing else (same windows) | ` +
        `${p.p50.fastify.toFixed(2)} ms | ${fmtRatio(p.p50.fastify / p.p50.bare)} of bare node:http | — |`,
      ...oneAtATimeRows(p),
      ...cpuRows(p.cpu, p.barePostRate),
    );
  }
  const g = service.get;
  rows.push(
    `| GET /api/comments, a 200-comment page (${Math.round(g.threadBytes / 1024)} KiB), 10 connections | ` +
      `${fmtRate(g.getRate)} | ${fmtRatio(g.ratio)} of bare node:http with the same bytes (${fmtRate(g.bareRate)}/s) | >= 0.5 |`,
  );
  return rows;
}
