import { LATENESS_LIMIT_MS, type Analysis, type DirectionSummary } from './analysis.js';
import type { InputFormat } from './protocol.js';

/** Everything a run found, as printed and as written by --json (no per-frame data). */
export interface LoadReport {
  config: {
    calls: number;
    seconds: number;
    format: InputFormat;
    /** INPUT_AUDIO_CHUNK_MS given to the service. */
    inputChunkMs: number;
    /** The fake's answer bursts (0: an echo per frame at once). */
    echoBurstMs: number;
    rampMs: number;
    drainMs: number;
    /** The main.js that ran, and any extra node flags. */
    serviceMain: string;
    serviceNodeArgs: string[];
    /** RECORDING=on in the service. */
    recording?: boolean;
  };
  host: { cpus: number; node: string; clockTicksPerSecond: number };
  analysis: Analysis;
  window: {
    seconds: number;
    callsUpAtStart: number;
    callsUpAtEnd: number;
    /** The window opened before every call was up (some never came up in time). */
    openedOnTimeout: boolean;
  };
  service: {
    cpuMs: number;
    /** The kernel's part of cpuMs (stime). */
    sysCpuMs: number;
    cpuPercentOfOneCore: number;
    cpuMsPerCallSecond: number;
    /** System calls and event-loop wake-ups per call-second, in the steady window. */
    readCallsPerCallSecond: number;
    writeCallsPerCallSecond: number;
    wakeupsPerCallSecond: number;
    rssIdleMb: number;
    rssSteadyStartMb: number;
    rssSteadyEndMb: number;
    rssPeakMb: number;
    rssPerCallPeakMb: number;
    rssPerCallSteadyMb: number;
    rssGrowthInWindowMb: number;
    activeCallsAtSteadyStart: number | null;
    activeCallsAfterHangUp: number | null;
    logLines: number;
    lastLogLines: string[];
  };
  tools: {
    generatorCpuPercent: number;
    fakeCpuPercent: number;
    generatorLoopDelayP99Ms: number;
    fakeLoopDelayP99Ms: number;
    fakeOverloaded: boolean;
  };
}

const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');
const mb = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');
const perCall = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');
const count = (value: number | null) => (value === null ? 'n/a' : String(value));

function row(label: string, inbound: string, outbound: string): string {
  return `  ${label.padEnd(30)}${inbound.padStart(16)}${outbound.padStart(16)}`;
}

function directionRows(inbound: DirectionSummary, outbound: DirectionSummary): string[] {
  const both = (label: string, pick: (d: DirectionSummary) => string) =>
    row(label, pick(inbound), pick(outbound));
  return [
    row('', 'inbound', 'outbound'),
    row('', 'Twilio->OpenAI', 'OpenAI->Twilio'),
    both('frames sent', (d) => String(d.sent)),
    both('frames received', (d) => String(d.received)),
    both('frames lost', (d) => String(d.lost)),
    both('frames reordered', (d) => count(d.reordered)),
    both('frames duplicated', (d) => String(d.duplicates)),
    both('latency p50 ms (steady window)', (d) => ms(d.steady.p50)),
    both('latency p99 ms (steady window)', (d) => ms(d.steady.p99)),
    both('latency max ms (steady window)', (d) => ms(d.steady.max)),
    both('  frames in steady window', (d) => String(d.steady.count)),
    both('latency p99 ms (whole run)', (d) => ms(d.all.p99)),
    both('latency max ms (whole run)', (d) => ms(d.all.max)),
  ];
}

function callLines(report: LoadReport): string[] {
  const { calls } = report.analysis;
  const lines = [
    `Calls: ${calls.completed} completed of ${calls.requested} ` +
      `(came up ${calls.cameUp}, failed ${calls.failed})`,
  ];
  for (const [reason, times] of Object.entries(calls.failures)) {
    lines.push(`  ${times} x ${reason}`);
  }
  return lines;
}

function checkLines(report: LoadReport): string[] {
  const { inbound, outbound } = report.analysis;
  const matchedBy =
    inbound.matching === 'tag'
      ? 'inbound by tag (call, frame) in the mu-law payload'
      : 'inbound by order per connection, verified by tone level';
  const lines = [
    `Matching: ${matchedBy}; outbound by tag (connection, echoed frame)`,
    `  inbound: unmatched frames ${inbound.unmatched}, misrouted ${inbound.misrouted}, ` +
      `wrong size ${inbound.badSize}` +
      (inbound.matching === 'order' ? `, level mismatches ${inbound.levelMismatches}` : '') +
      (inbound.matching === 'tag' ? `, association conflicts ${inbound.associationConflicts}` : ''),
    `  outbound: cross-talk ${outbound.crossTalk}, untagged media ${outbound.untagged}, ` +
      `marks echoed ${report.analysis.marksEchoed}`,
    `  service: appends ${report.analysis.appendMessages} carrying ${report.analysis.appendedFrames} frames, ` +
      `session.update ${report.analysis.sessionUpdates}, ` +
      `unauthorized OpenAI connections ${report.analysis.unauthorizedConnections}, ` +
      `activeCalls at steady start ${count(report.service.activeCallsAtSteadyStart)}, ` +
      `after hang-up ${count(report.service.activeCallsAfterHangUp)}`,
  ];
  if (inbound.matching === 'order' && inbound.levelMismatches > 0) {
    lines.push('  WARNING: level mismatches mean inbound frames were dropped or reordered, so');
    lines.push('  order matching is unreliable and inbound latency may be off by whole frames');
  }
  return lines;
}

function serviceLines(report: LoadReport): string[] {
  const { service, window } = report;
  return [
    `Service resources (steady window ${window.seconds.toFixed(2)} s, ` +
      `${window.callsUpAtStart} calls up at its start, ${window.callsUpAtEnd} at its end` +
      `${window.openedOnTimeout ? ', opened on timeout' : ''})`,
    `  CPU (utime+stime)           ${service.cpuMs.toFixed(0)} ms = ` +
      `${service.cpuPercentOfOneCore.toFixed(1)} % of one core ` +
      `(kernel ${service.sysCpuMs.toFixed(0)} ms, ${((100 * service.sysCpuMs) / service.cpuMs).toFixed(0)} %)`,
    `  CPU per call-second         ${ms(service.cpuMsPerCallSecond)} ms`,
    `  per call-second             ${perCall(service.readCallsPerCallSecond)} reads, ` +
      `${perCall(service.writeCallsPerCallSecond)} writes (system calls), ` +
      `${perCall(service.wakeupsPerCallSecond)} event-loop wake-ups`,
    `  RSS idle (before calls)     ${mb(service.rssIdleMb)} MB`,
    `  RSS steady start / end      ${mb(service.rssSteadyStartMb)} / ${mb(service.rssSteadyEndMb)} MB ` +
      `(growth in window ${service.rssGrowthInWindowMb >= 0 ? '+' : ''}${mb(service.rssGrowthInWindowMb)} MB)`,
    `  RSS peak (VmHWM)            ${mb(service.rssPeakMb)} MB`,
    `  RSS per call                ${ms(service.rssPerCallPeakMb)} MB (peak - idle) / calls, ` +
      `${ms(service.rssPerCallSteadyMb)} MB (steady end - idle) / calls`,
  ];
}

function toolLines(report: LoadReport): string[] {
  const late = report.analysis.generatorLateness;
  const { tools } = report;
  const lines = [
    'Load tools (watching themselves)',
    `  generator send lateness     p50 ${ms(late.p50)}  p99 ${ms(late.p99)}  max ${ms(late.max)} ms ` +
      `(limit ${LATENESS_LIMIT_MS} ms)`,
    `  event-loop delay p99        generator ${ms(tools.generatorLoopDelayP99Ms)} ms, ` +
      `fake ${ms(tools.fakeLoopDelayP99Ms)} ms`,
    `  CPU in steady window        generator ${tools.generatorCpuPercent.toFixed(1)} %, ` +
      `fake ${tools.fakeCpuPercent.toFixed(1)} % of one core`,
  ];
  if (late.overloaded) {
    lines.push(
      `  generator overloaded: send lateness p99 ${ms(late.p99)} ms > ${LATENESS_LIMIT_MS} ms, ` +
        'so the latency figures measure the generator, not the service',
    );
  }
  if (tools.fakeOverloaded) {
    lines.push(
      `  fake overloaded: event-loop delay p99 ${ms(tools.fakeLoopDelayP99Ms)} ms > ` +
        `${LATENESS_LIMIT_MS} ms, so the latency figures include the fake's queueing`,
    );
  }
  return lines;
}

function verdictLines(report: LoadReport): string[] {
  const { inbound, outbound } = report.analysis;
  const target = (d: DirectionSummary) =>
    Number.isFinite(d.steady.p99)
      ? `${d.steady.p99 <= LATENESS_LIMIT_MS ? 'met' : 'MISSED'} (${ms(d.steady.p99)} ms)`
      : 'n/a';
  return [
    `Latency target p99 <= ${LATENESS_LIMIT_MS} ms: inbound ${target(inbound)}, ` +
      `outbound ${target(outbound)}`,
    ...(report.config.inputChunkMs > 20
      ? [
          `  (inbound includes the chunk's own wait, by design: a frame waits up to ` +
            `${report.config.inputChunkMs - 20} ms for the rest of its ${report.config.inputChunkMs} ms chunk)`,
        ]
      : []),
  ];
}

export function formatReport(report: LoadReport): string {
  const { config, host } = report;
  const lines = [
    '',
    `Load bench: ${config.calls} calls x ${config.seconds} s, AUDIO_INPUT_FORMAT=${config.format}, ` +
      `INPUT_AUDIO_CHUNK_MS=${config.inputChunkMs}, ` +
      `answers ${config.echoBurstMs > 0 ? `in ${config.echoBurstMs} ms bursts` : 'frame by frame'}, ` +
      `ramp ${(config.rampMs / 1000).toFixed(2)} s, drain ${(config.drainMs / 1000).toFixed(1)} s`,
    `Host: ${host.cpus} CPUs (shared, so figures are noisy), Node ${host.node}`,
    `Service: node ${[...config.serviceNodeArgs, config.serviceMain].join(' ')}`,
    '',
    ...callLines(report),
    '',
    ...directionRows(report.analysis.inbound, report.analysis.outbound),
    '',
    ...checkLines(report),
    '',
    ...serviceLines(report),
    '',
    ...toolLines(report),
    '',
    ...verdictLines(report),
  ];
  if (report.service.lastLogLines.length > 0) {
    lines.push('', `Service log: ${report.service.logLines} lines at warn or above; last ones:`);
    for (const line of report.service.lastLogLines) lines.push(`  ${line}`);
  }
  return lines.join('\n');
}
