/**
 * Prints where a V8 CPU profile (`node --cpu-prof`) spent its time:
 *   node dist-tools/bench/cpuprofile-top.js PROFILE.cpuprofile [--top N] [--total] [--only RE]
 *
 * Self time per function (summed over every call site), as ms and as a share of the busy time
 * (all samples but `(idle)`), then the same grouped by where the code lives (our src/, ws, Nest,
 * Node internals, GC...). `--total` adds inclusive time (self + callees, counted once per sample
 * even when a function recurses). `--only RE` keeps the functions whose label matches RE.
 * `--from S` / `--to S` keep only the samples between S seconds after the profile's start and
 * S seconds before its end, e.g. to leave start-up (module loading) and shutdown out of a load run.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const USAGE =
  'usage: node dist-tools/bench/cpuprofile-top.js PROFILE.cpuprofile [--top N] [--total] [--only RE] [--from S] [--to S]';

function label(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  const url = frame.url.replace(/^file:\/\//, '');
  const short = url.includes('/node_modules/')
    ? url.slice(url.lastIndexOf('/node_modules/') + '/node_modules/'.length)
    : url.replace(/^.*\/(dist|src)\//, '$1/');
  return `${name} ${short}:${frame.lineNumber + 1}`;
}

/** Where the code lives, for the grouped view. */
function area(frame: CallFrame): string {
  const url = frame.url;
  if (!url) {
    const name = frame.functionName;
    if (name === '(garbage collector)') return 'GC';
    if (name === '(program)') return '(program): native, not attributed';
    return name || '(native)';
  }
  if (url.startsWith('node:')) return 'node internals';
  // The innermost package: ws nested under @nestjs/platform-ws counts as ws.
  const packages = [...url.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  if (packages.length > 0) return packages[packages.length - 1][1];
  const own = /\/(dist|src)\/(.*)$/.exec(url);
  if (own) return `ours: ${own[2].split('/')[0]}`;
  return url;
}

function main(): void {
  const args = process.argv.slice(2);
  const option = (name: string) => {
    const index = args.indexOf(name);
    return index >= 0 ? args[index + 1] : undefined;
  };
  const file = args.find((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
  if (!file) {
    console.error(USAGE);
    process.exit(2);
  }
  const top = Number(option('--top') ?? 25);
  const only = option('--only');
  const keep = only ? (key: string) => new RegExp(only).test(key) : () => true;
  const withTotal = args.includes('--total');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const windowStart = profile.startTime + Number(option('--from') ?? 0) * 1e6;
  const windowEnd = profile.endTime - Number(option('--to') ?? 0) * 1e6;

  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }

  const selfUs = new Map<string, number>();
  const totalUs = new Map<string, number>();
  const areaUs = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i];
    if (at < windowStart || at > windowEnd) continue;
    // timeDeltas[i] is the time before sample i; the time after it is the next delta.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += dt;
      continue;
    }
    busyUs += dt;
    const key = label(node.callFrame);
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    const where = area(node.callFrame);
    areaUs.set(where, (areaUs.get(where) ?? 0) + dt);
    if (withTotal) {
      const seen = new Set<string>();
      for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
        const frame = byId.get(id)?.callFrame;
        if (!frame) break;
        const name = label(frame);
        if (seen.has(name)) continue;
        seen.add(name);
        totalUs.set(name, (totalUs.get(name) ?? 0) + dt);
      }
    }
  }

  const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);
  const pct = (us: number) => `${((100 * us) / busyUs).toFixed(1).padStart(5)}%`;
  const wallUs = windowEnd - windowStart;
  console.log(
    `${file}\n  wall ${ms(wallUs)} ms, busy ${ms(busyUs)} ms ` +
      `(${((100 * busyUs) / wallUs).toFixed(1)}% of one core), idle ${ms(idleUs)} ms`,
  );
  const print = (title: string, entries: Map<string, number>, limit: number) => {
    console.log(`\n${title}`);
    const sorted = [...entries]
      .filter(([key]) => keep(key))
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit);
    for (const [key, us] of sorted) console.log(`  ${ms(us)} ms ${pct(us)}  ${key}`);
  };
  print(`Top ${top} by self time`, selfUs, top);
  print('Self time by area', areaUs, 30);
  if (withTotal) print(`Top ${top} by total time`, totalUs, top);
}

main();
