/**
 * The figures of `npm run bench:compare`: runs of the load bench, interleaved round by round, and
 * each run's CPU as a ratio to the naive bridge's run of the same round. Pairing within a round
 * is what makes the ratio hold on a shared machine: both runs of a pair meet the same neighbours,
 * while the level of CPU per call-second drifts by a third between rounds.
 */
import { LATENESS_LIMIT_MS } from './analysis.js';
import type { LoadReport } from './report.js';

/** One variant of the comparison: a build and a configuration, run once per round. */
export interface Variant {
  label: string;
  /** Arguments for bench:load besides --calls, --seconds and --json. */
  args: string[];
}

export interface RunFigures {
  cpuMsPerCallSecond: number;
  /** Steady-window p99, ms; NaN when nothing was matched. */
  inboundP99Ms: number;
  outboundP99Ms: number;
  framesLost: number;
  /** The generator (or the fake) ran late, so the latency measures the tools. */
  toolsOverloaded: boolean;
}

export interface VariantSummary {
  label: string;
  runs: RunFigures[];
  /** This variant's CPU over the baseline's in the same round, one per round. */
  ratios: number[];
}

export function runFigures(report: LoadReport): RunFigures {
  const { inbound, outbound, generatorLateness } = report.analysis;
  return {
    cpuMsPerCallSecond: report.service.cpuMsPerCallSecond,
    inboundP99Ms: inbound.steady.p99,
    outboundP99Ms: outbound.steady.p99,
    framesLost: inbound.lost + outbound.lost,
    toolsOverloaded: generatorLateness.overloaded || report.tools.fakeOverloaded,
  };
}

/** runs[round][variant], the baseline at `baseline`: one summary per variant. */
export function summarise(
  variants: readonly Variant[],
  runs: readonly (readonly RunFigures[])[],
  baseline: number,
): VariantSummary[] {
  return variants.map((variant, index) => ({
    label: variant.label,
    runs: runs.map((round) => round[index]),
    ratios: runs.map(
      (round) => round[index].cpuMsPerCallSecond / round[baseline].cpuMsPerCallSecond,
    ),
  }));
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const fixed = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');

function spread(values: readonly number[]): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length < 2) return '';
  return ` (${fixed(Math.min(...finite))}-${fixed(Math.max(...finite))})`;
}

/** The table printed for one call count. */
export function formatComparison(calls: number, summaries: readonly VariantSummary[]): string {
  const width = Math.max(...summaries.map((summary) => summary.label.length));
  const lines = [
    `${calls} calls: CPU ms per call-second by round, ratio to the baseline (median of the ` +
      'rounds, range), latency p99 in/out (steady window), frames lost',
  ];
  for (const summary of summaries) {
    const cpu = summary.runs.map((run) => fixed(run.cpuMsPerCallSecond)).join(' ');
    const latency = summary.runs
      .map(
        (run) =>
          `${fixed(run.inboundP99Ms)}/${fixed(run.outboundP99Ms)}${run.toolsOverloaded ? '*' : ''}`,
      )
      .join(' ');
    const lost = summary.runs.reduce((sum, run) => sum + run.framesLost, 0);
    lines.push(
      `  ${summary.label.padEnd(width)}  cpu ${cpu}  ratio ${fixed(median(summary.ratios))}` +
        `${spread(summary.ratios)}  p99 ${latency}  lost ${lost}`,
    );
  }
  if (summaries.some((summary) => summary.runs.some((run) => run.toolsOverloaded))) {
    lines.push(
      `  * the generator or the fake ran more than ${LATENESS_LIMIT_MS} ms late: that run's ` +
        'latency measures the load tools, not the service',
    );
  }
  return lines.join('\n');
}

/**
 * Every variant's CPU over another variant's in the same rounds (the floor, whose ratio is the
 * least a bridge forwarding every frame at once reaches): printed under the main table.
 */
export function formatRatiosTo(baseline: string, summaries: readonly VariantSummary[]): string {
  const others = summaries.filter((summary) => summary.label !== baseline);
  const width = Math.max(...others.map((summary) => summary.label.length));
  const lines = [`  ratio to ${baseline} in the same rounds (median, range):`];
  for (const summary of others) {
    lines.push(
      `    ${summary.label.padEnd(width)}  ${fixed(median(summary.ratios))}${spread(summary.ratios)}`,
    );
  }
  return lines.join('\n');
}
