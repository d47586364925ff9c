/** What the numbers were measured on: printed with every run, since only ratios carry across machines. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Machine {
  cpus: string;
  kernel: string;
  fs: string;
  node: string;
  pool: string;
}

export function fsType(dir: string): string {
  try {
    // `df -T DIR`: the second line's second column is the type of the filesystem holding DIR.
    const lines = execFileSync('df', ['-T', dir], { encoding: 'utf8' }).trim().split('\n');
    const cols = lines[lines.length - 1]?.split(/\s+/) ?? [];
    const [dev = '?', type = '?'] = cols;
    return `${type}${type === 'ext4' ? ext4Journal(dev) : ''} (${dev} on ${cols[6] ?? '?'})`;
  } catch {
    return 'unknown (df -T failed)';
  }
}

/**
 * ext4 with or without its journal behaves very differently under fsync (no journal: no commit batching, and the
 * allocator avoids recently freed inodes), so say which: jbd2 lists each journal it runs as <dev>-<inode>.
 */
function ext4Journal(device: string): string {
  const dev = path.basename(device);
  try {
    return fs.readdirSync('/proc/fs/jbd2').some((n) => n.startsWith(`${dev}-`))
      ? ', journal'
      : ', NO journal';
  } catch {
    return fs.existsSync('/proc/fs') ? ', NO journal' : '';
  }
}

export function describeMachine(dir: string): Machine {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return {
    cpus: `${os.availableParallelism()} × ${cpu}`,
    kernel: `${os.type()} ${os.release()}`,
    fs: fsType(dir),
    node: process.version,
    pool: process.env.UV_THREADPOOL_SIZE
      ? `UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE} (set in the environment)`
      : 'libuv default (4 threads)',
  };
}

export function loadAverage(): string {
  return os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}
