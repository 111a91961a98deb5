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
  /** The kernel's share of cpuMs (stime): on loopback, mostly the TCP sends and receives. */
  sysMs: number;
  /** Resident set size now, and its high-water mark (kB). */
  rssKb: number;
  hwmKb: number;
  /**
   * Read and write system calls so far (/proc/PID/io), and voluntary context switches (each a
   * sleep in epoll_wait). Exact counts, so they compare runs where CPU time is too noisy to.
   */
  readCalls: number;
  writeCalls: number;
  wakeups: number;
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

function cpuMsOf(pid: number): { cpuMs: number; sysMs: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and ')' so fields are counted from its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  const msPerTick = 1000 / ticksPerSecond();
  return { cpuMs: (utime + stime) * msPerTick, sysMs: stime * msPerTick };
}

function statusKb(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : NaN;
}

function field(text: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : NaN;
}

/** /proc/PID/io needs the same user (or ptrace rights); NaN when it cannot be read. */
function ioOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/io`, 'utf8');
  } catch {
    return '';
  }
}

export function sampleProcess(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const io = ioOf(pid);
  return {
    atMs: performance.now(),
    ...cpuMsOf(pid),
    rssKb: statusKb(status, 'VmRSS'),
    hwmKb: statusKb(status, 'VmHWM'),
    readCalls: field(io, 'syscr'),
    writeCalls: field(io, 'syscw'),
    wakeups: field(status, 'voluntary_ctxt_switches'),
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
