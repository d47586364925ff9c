/**
 * CPU time read from /proc (Linux): what one benchmark window cost the server under test and the load
 * generator, so a ratio of throughputs can be read against what each request costs in CPU.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let tickUs: number | undefined;

/** µs per clock tick, the unit of /proc/PID/stat's times (getconf CLK_TCK; 100 Hz where it cannot be asked). */
function usPerTick(): number {
  if (tickUs === undefined) {
    let hz = 100;
    try {
      hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      // getconf missing: Linux has used 100 on every common architecture
    }
    tickUs = 1e6 / hz;
  }
  return tickUs;
}

/** The fields of /proc/PID/stat after the command name (which may hold spaces): [0] is field 3, `state`. */
function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU time process `pid` has used so far, every thread (utime + stime), in µs; NaN where /proc cannot tell. */
export function processCpuUs(pid: number | undefined): number {
  const f = pid === undefined ? undefined : statFields(pid);
  return f === undefined ? Number.NaN : (Number(f[11]) + Number(f[12])) * usPerTick();
}

/**
 * CPU time of this process and of its children it has waited for (cutime + cstime), in µs: around one run of
 * wrk (a child, reaped when it ends) or of autocannon (in this process), the load generator's cost.
 */
export function generatorCpuUs(): number {
  const own = process.cpuUsage();
  const f = statFields('self');
  const children = f === undefined ? 0 : (Number(f[13]) + Number(f[14])) * usPerTick();
  return own.user + own.system + children;
}
