/**
 * Side-by-side comparison (issue 13): this bridge against the naive one, in one command.
 *   npm run bench:compare -- [--calls 50,200] [--seconds 15] [--rounds 3]
 *     [--ours-args "--input-chunk-ms 100"] [--recording on] [--json out.json]
 * Each round runs bench:load once per variant: the naive bridge on g711_ulaw (the baseline,
 * bench/load/naive-bridge.ts), the floor (bench/load/floor-bridge.ts: the same messages as ours
 * with next to no code per message, so its ratio is the least any bridge that forwards every
 * frame at once can reach on this machine), then this bridge on g711_ulaw and on pcm16 (with
 * --ours-args), the starting variant rotating from round to round so that none always runs
 * first. Every run's CPU is divided by the baseline's of its own round, and the table gives the
 * median of those ratios; the same rounds give every run's ratio to the floor's run (issue 25's
 * targets are set against the floor). See bench/load/compare.ts for why pairs, not averages.
 *
 * `--recording on` adds ours on g711_ulaw with RECORDING=on (issue 27: at most 1.1x the CPU per
 * call-second of ours without), and prints its ratio to ours without in the same rounds.
 * `--also a/dist/main.js,b/dist/main.js` adds other builds of the service (an earlier commit, a
 * scratch copy with one change) on g711_ulaw, and prints their ratios to ours in the same rounds:
 * how a change is measured before and after, like for like.
 *
 * Exits 0 when every run completed (whatever the ratios), 1 when a run failed, 2 on bad
 * arguments, 130 on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  formatComparison,
  formatRatiosTo,
  runFigures,
  summarise,
  type RunFigures,
  type Variant,
} from './load/compare.js';
import type { LoadReport } from './load/report.js';
import { flagValues, optionsOrExit, UsageError } from './lib/cli.js';

const USAGE =
  'usage: npm run bench:compare -- [--calls 50,200] [--seconds 15] [--rounds 3]\n' +
  '         [--ours-args "--input-chunk-ms 100"] [--recording on] [--also other/dist/main.js,...]\n' +
  '         [--json out.json]';
const MAX_ROUNDS = 20;
const MAX_CALLS = 10_000;

const here = fileURLToPath(new URL('.', import.meta.url));
const LOAD_BENCH = resolve(here, 'load.bench.js');
const NAIVE_MAIN = resolve(here, 'load/naive-bridge.js');
const FLOOR_MAIN = resolve(here, 'load/floor-bridge.js');
/** Where variantsOf puts the naive bridge (the baseline) and the floor. */
const NAIVE = 0;
const FLOOR = 1;
/** Ours on g711_ulaw without recording: what the recording and --also variants are compared with. */
const OURS_G711 = 2;
/** Where the variants compared with ours begin: RECORDING=on, then the --also builds. */
const COMPARED_WITH_OURS = 4;
const RECORDING_LABEL = 'ours, g711_ulaw, RECORDING=on';

interface Options {
  calls: number[];
  seconds: number;
  rounds: number;
  oursArgs: string[];
  json?: string;
  recording: boolean;
  /** Other builds' main.js, each an extra variant compared with ours. */
  also: string[];
}

function parseOptions(argv: string[]): Options {
  const values = flagValues(
    argv,
    ['calls', 'seconds', 'rounds', 'ours-args', 'json', 'recording', 'also'],
    USAGE,
  );
  const integer = (text: string, name: string, min: number, max: number): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new UsageError(`--${name} must be a whole number from ${min} to ${max}\n${USAGE}`);
    }
    return value;
  };
  const oursArgs = (values.get('ours-args') ?? '').split(/\s+/).filter(Boolean);
  if (oursArgs.some((arg) => ['--calls', '--seconds', '--json', '--format'].includes(arg))) {
    throw new UsageError(`--ours-args sets neither --calls, --seconds, --json nor --format`);
  }
  const recording = values.get('recording') ?? 'off';
  if (recording !== 'on' && recording !== 'off') {
    throw new UsageError(`--recording must be on or off\n${USAGE}`);
  }
  const also = (values.get('also') ?? '')
    .split(',')
    .filter(Boolean)
    .map((path) => resolve(path));
  return {
    recording: recording === 'on',
    also,
    calls: (values.get('calls') ?? '50,200')
      .split(',')
      .map((text) => integer(text, 'calls', 1, MAX_CALLS)),
    seconds: integer(values.get('seconds') ?? '15', 'seconds', 3, 3600),
    rounds: integer(values.get('rounds') ?? '3', 'rounds', 1, MAX_ROUNDS),
    oursArgs,
    json: values.get('json'),
  };
}

function variantsOf(options: Options): Variant[] {
  const ours = options.oursArgs.length ? ` (${options.oursArgs.join(' ')})` : '';
  return [
    {
      label: 'naive, g711_ulaw (baseline)',
      args: ['--format', 'g711_ulaw', '--service-main', NAIVE_MAIN],
    },
    {
      label: 'floor, g711_ulaw (no per-message code)',
      args: ['--format', 'g711_ulaw', '--service-main', FLOOR_MAIN],
    },
    { label: `ours, g711_ulaw${ours}`, args: ['--format', 'g711_ulaw', ...options.oursArgs] },
    { label: `ours, pcm16${ours}`, args: ['--format', 'pcm16', ...options.oursArgs] },
    ...(options.recording
      ? [
          {
            label: `${RECORDING_LABEL}${ours}`,
            args: ['--format', 'g711_ulaw', '--recording', 'on', ...options.oursArgs],
          },
        ]
      : []),
    ...options.also.map((main) => ({
      label: `${main}, g711_ulaw${ours}`,
      args: ['--format', 'g711_ulaw', '--service-main', main, ...options.oursArgs],
    })),
  ];
}

let current: ChildProcess | undefined;
let interrupted = false;

/** One bench:load run, its report read back from --json. */
async function runLoadBench(args: string[], jsonPath: string): Promise<LoadReport> {
  if (interrupted) throw new Error('interrupted');
  // Its own process group, so that a Ctrl-C reaches it once, from us, and it can stop its children.
  const child = spawn(process.execPath, [LOAD_BENCH, ...args, '--json', jsonPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  current = child;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  current = undefined;
  if (code !== 0) throw new Error(`bench:load ${args.join(' ')} exited ${code}\n${stderr}`);
  return JSON.parse(readFileSync(jsonPath, 'utf8')) as LoadReport;
}

async function main(): Promise<void> {
  const options = optionsOrExit(parseOptions);
  const interrupt = () => {
    interrupted = true;
    process.exitCode = 130;
    current?.kill('SIGINT'); // bench:load stops its own children on SIGINT
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const variants = variantsOf(options);
  // Every variant runs on this Node (process.execPath): say which, since figures differ by version.
  console.log(
    `bench:compare on Node ${process.version}, ${cpus().length} CPUs, ` +
      `load average ${loadavg()[0].toFixed(2)} at the start`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'bench-compare-'));
  const tables: string[] = [];
  const results: Record<string, unknown> = {};
  try {
    for (const calls of options.calls) {
      const rounds: RunFigures[][] = [];
      for (let round = 0; round < options.rounds; round++) {
        const figures: RunFigures[] = [];
        for (let step = 0; step < variants.length; step++) {
          const index = (round + step) % variants.length;
          const variant = variants[index];
          const report = await runLoadBench(
            [...variant.args, '--calls', String(calls), '--seconds', String(options.seconds)],
            join(dir, 'run.json'),
          );
          figures[index] = runFigures(report);
          console.log(
            `round ${round + 1}/${options.rounds}, ${calls} calls, ${variant.label}: ` +
              `${figures[index].cpuMsPerCallSecond.toFixed(2)} ms per call-second`,
          );
        }
        rounds.push(figures);
      }
      const summaries = summarise(variants, rounds, NAIVE);
      const toFloor = summarise(variants, rounds, FLOOR);
      tables.push(
        `${formatComparison(calls, summaries)}\n${formatRatiosTo(variants[FLOOR].label, toFloor)}`,
      );
      const comparedWithOurs = summarise(variants, rounds, OURS_G711).slice(COMPARED_WITH_OURS);
      if (comparedWithOurs.length) {
        tables.push(formatRatiosTo(variants[OURS_G711].label, comparedWithOurs));
      }
      results[String(calls)] = summaries.map((summary, index) => ({
        ...summary,
        floorRatios: toFloor[index].ratios,
      }));
    }
  } catch (error) {
    if (interrupted) return;
    console.error(`\ncompare failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
    return;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n${tables.join('\n\n')}`);
  console.log(
    '\nTargets (issue 25): ours g711_ulaw <= 1.25x the floor at 50 and 200 calls, ours pcm16 ' +
      '<= 1.4x the floor, ours g711_ulaw <= 1.0x the baseline, p99 <= 5 ms at 100 calls, 0 ' +
      "frames lost. The floor's ratio is the least that a bridge forwarding every frame at once " +
      'reaches on this machine.' +
      (options.recording ? ' Issue 27: RECORDING=on <= 1.1x ours g711_ulaw without it.' : ''),
  );
  if (options.json) {
    writeFileSync(options.json, `${JSON.stringify({ options, results }, null, 2)}\n`);
    console.log(`Wrote ${options.json}`);
  }
}

await main();
