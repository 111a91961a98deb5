import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU time and memory of a process from Linux's /proc, read from outside: the service needs no
 * instrumentation, and the reading costs the service nothing.
 */

export interface ProcSample {
  /** When it was read (ms, monotonic). */
  atMs: number;
  /** utime + stime (ms). */
  cpuMs: number;
  /** Resident set size now, and its high-water mark (kB). */
  rssKb: number;
  hwmKb: number;
}

let clockTicksPerSecond: number | undefined;

/** utime/stime are in clock ticks (`getconf CLK_TCK`, nearly always 100). */
function ticksPerSecond(): number {
  if (clockTicksPerSecond === undefined) {
    const value = Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim());
    clockTicksPerSecond = Number.isFinite(value) && value > 0 ? value : 100;
  }
  return clockTicksPerSecond;
}

function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and ')' so fields are counted from its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

function statusKb(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : NaN;
}

export function sampleProcess(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    atMs: performance.now(),
    cpuMs: cpuMsOf(pid),
    rssKb: statusKb(status, 'VmRSS'),
    hwmKb: statusKb(status, 'VmHWM'),
  };
}

/** Like sampleProcess, but undefined when the process is gone. */
export function trySampleProcess(pid: number | undefined): ProcSample | undefined {
  if (pid === undefined) return undefined;
  try {
    return sampleProcess(pid);
  } catch {
    return undefined;
  }
}

export function clockTicks(): number {
  return ticksPerSecond();
}
