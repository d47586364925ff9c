import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Exit, waitExit } from './child.js';
import { hasCommand, isRoot } from './env.js';

const run = promisify(execFile);

/** The rig script, next to this package's sources (it is not built: dist/src/ → ../../rig/). */
export const RIG_SCRIPT = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'rig',
  'hosts.sh',
);

/** A command started by HostsRig.startService. */
export interface Service {
  child: ChildProcess;
  exit: Promise<Exit>;
  /** Everything it wrote to stdout and stderr. */
  log: string[];
}

/** strict: client attribute/entry caches and performance translators off; default: GlusterFS's defaults. */
export type CachingProfile = 'strict' | 'default';

/** Why the rig cannot run here, or undefined if it can. */
export function rigMissing(): string | undefined {
  if (!isRoot) return 'needs root (network namespaces, FUSE mounts)';
  for (const cmd of ['glusterd', 'glusterfs', 'ip', 'unshare', 'nsenter']) {
    if (!hasCommand(cmd)) return `needs ${cmd} (apt-get install glusterfs-server glusterfs-client iproute2)`;
  }
  if (!fs.existsSync('/dev/fuse')) return 'needs /dev/fuse';
  return undefined;
}

/**
 * A GlusterFS replica-3 volume on three server namespaces, mounted by client "hosts" (network, UTS, mount and
 * PID namespaces of their own) — see rig/hosts.sh. Everything lives under a fresh directory of its own, so
 * runs on one machine never meet.
 */
export class HostsRig {
  private constructor(
    readonly dir: string,
    readonly profile: CachingProfile,
    readonly hosts: readonly string[],
    private readonly env: Record<string, string>,
  ) {}

  /** Brings a rig up; on failure nothing of it is left behind. */
  static async up(profile: CachingProfile, hosts: readonly string[] = ['a', 'b', 'c']): Promise<HostsRig> {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-rig-'));
    const dir = path.join(base, 'r');
    try {
      await run(RIG_SCRIPT, ['up', dir, profile, hosts.join(' ')], { maxBuffer: 1 << 24 });
    } catch (err) {
      await run(RIG_SCRIPT, ['down', dir]).catch(() => {});
      fs.rmSync(base, { recursive: true, force: true });
      throw err;
    }
    const env: Record<string, string> = {};
    for (const line of fs.readFileSync(path.join(dir, 'rig.env'), 'utf8').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1).replace(/^"|"$/g, '');
    }
    return new HostsRig(dir, profile, hosts, env);
  }

  /** Where `host` mounts the volume. */
  mount(host: string): string {
    return this.need(`MNT_${host}`);
  }

  /** `host`'s address on the rig's network. */
  address(host: string): string {
    return this.need(`IP_${host}`);
  }

  /** A file path on `host`'s local disk (not the volume). */
  local(host: string, ...parts: string[]): string {
    return path.join(this.dir, 'local', host, ...parts);
  }

  /**
   * Starts `argv` on `host` (as if logged in there), in a process group of its own: signal it with
   * `HostsRig.signal`, not `child.kill` (unshare(1) blocks SIGTERM and does not pass it on).
   */
  spawn(host: string, argv: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    return spawn(RIG_SCRIPT, ['run', this.dir, host, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
      detached: true,
    });
  }

  /**
   * Starts a long-running `argv` on `host` and resolves once it writes a line matching `ready` (stdout or stderr);
   * rejects, with what it wrote, if it exits first. `log` keeps everything it writes.
   */
  async startService(host: string, argv: readonly string[], ready: RegExp): Promise<Service> {
    const child = this.spawn(host, argv);
    const log: string[] = [];
    const svc: Service = { child, exit: waitExit(child), log };
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        const s = d.toString('utf8');
        log.push(s);
        if (ready.test(s)) resolve();
      };
      child.stderr?.on('data', onData);
      child.stdout?.on('data', onData);
      child.once('exit', (code, sig) =>
        reject(new Error(`${argv.join(' ')} on ${host} exited (${code ?? sig}): ${log.join('')}`)),
      );
    });
    return svc;
  }

  /** Sends `signal` to a command started by `spawn`: to its process group, so the command itself gets it. */
  static signal(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Gone already.
    }
  }

  /** Runs `argv` on `host` to its end: exit code and output. */
  exec(host: string, argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      execFile(
        RIG_SCRIPT,
        ['run', this.dir, host, ...argv],
        { maxBuffer: 1 << 26 },
        (err, stdout, stderr) => {
          if (err !== null && typeof err.code !== 'number') reject(err);
          else resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
        },
      );
    });
  }

  /**
   * Makes `host`'s TCP `port` reachable from this process through a Unix socket (a path is not bound to a
   * network namespace; the rig's addresses are unreachable from the root namespace by design). Returns the
   * socket's path; the forwarder lives until the rig goes down.
   */
  async forward(host: string, port: number): Promise<string> {
    const sock = path.join(this.dir, 'local', host, `fwd-${port}.sock`);
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        `${this.need('P')}-c${host}`,
        process.execPath,
        '-e',
        FORWARDER,
        sock,
        this.address(host),
        String(port),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`forwarder for ${host} exited (${code})`)));
      child.stdout?.once('data', () => resolve());
    });
    return sock;
  }

  /** SIGKILLs the brick process of server `n` (1-3). */
  async killBrick(n: number): Promise<void> {
    await run(RIG_SCRIPT, ['brick-kill', this.dir, String(n)]);
  }

  /** Restarts dead bricks. */
  async startBricks(): Promise<void> {
    await run(RIG_SCRIPT, ['brick-start', this.dir]);
  }

  /** Starts self-heal and waits until nothing is left to heal (tries × 0.5 s at most). */
  async healed(tries = 240): Promise<void> {
    await run(RIG_SCRIPT, ['heal-wait', this.dir, String(tries)]);
  }

  /** Tears the rig down: unmounts, kills what runs in its namespaces, removes its directory. */
  async down(): Promise<void> {
    await run(RIG_SCRIPT, ['down', this.dir]);
    fs.rmSync(path.dirname(this.dir), { recursive: true, force: true });
  }

  private need(key: string): string {
    const v = this.env[key];
    if (v === undefined) throw new Error(`rig: no ${key} in rig.env`);
    return v;
  }
}

/** The forwarder run inside a host's namespace: Unix socket argv[1] → TCP argv[2]:argv[3]. */
const FORWARDER = `
const net = require('node:net');
const [sock, host, port] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(Number(port), host);
  c.pipe(u).on('error', () => u.destroy());
  u.pipe(c).on('error', () => c.destroy());
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
}).listen(sock, () => process.stdout.write('ready\\n'));
`;

/** One HTTP exchange over a Unix socket (see HostsRig.forward). */
export interface SocketAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** An HTTP request to the server behind Unix socket `sock`; rejects if the connection fails or breaks. */
export function socketRequest(
  sock: string,
  method: string,
  p: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<SocketAnswer> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath: sock,
        method,
        path: p,
        headers: {
          host: 'quire.test',
          ...(data === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': data.length }),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}
