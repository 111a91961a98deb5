/**
 * Joins the generator's and the fake's per-frame records into per-direction figures.
 *
 * Which fake connection serves which call is learned from the outbound echoes: every echo
 * carries its connection id, and the call whose socket it arrives on is known, so the
 * association is exact even though the service's Realtime connections all look alike (same URL,
 * same key). In g711_ulaw mode the appends' own tags say the same, as a cross-check.
 */
import type {
  CallerRecord,
  ConnectionRecord,
  FakeResult,
  GeneratorResult,
  InputFormat,
} from './protocol.js';

export interface LatencyStats {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface DirectionSummary {
  sent: number;
  received: number;
  lost: number;
  /** null where order cannot be observed (pcm16 inbound is matched by order). */
  reordered: number | null;
  duplicates: number;
  /** Frames sent while every call was up: the figures to compare between runs. */
  steady: LatencyStats;
  /** Every matched frame, including the ramp and each call's first frames. */
  all: LatencyStats;
}

export interface InboundSummary extends DirectionSummary {
  matching: 'tag' | 'order';
  /** Appended frames no sent frame accounts for (extra, or on a connection of no call). */
  unmatched: number;
  /** g711_ulaw: appended frames carrying another call's tag than their connection's. */
  misrouted: number;
  /** pcm16: appended frames whose tone level contradicts their position (order broken). */
  levelMismatches: number;
  badSize: number;
  /** g711_ulaw: calls whose connection per echo tags and per append tags disagree. */
  associationConflicts: number;
}

export interface OutboundSummary extends DirectionSummary {
  /** Echoes of one call's connection that arrived on another call's socket. */
  crossTalk: number;
  untagged: number;
}

export interface CallSummary {
  requested: number;
  cameUp: number;
  completed: number;
  failed: number;
  failures: Record<string, number>;
}

export interface LatenessSummary extends LatencyStats {
  overloaded: boolean;
}

export interface Analysis {
  calls: CallSummary;
  inbound: InboundSummary;
  outbound: OutboundSummary;
  generatorLateness: LatenessSummary;
  marksEchoed: number;
  /** `input_audio_buffer.append` messages, and the 20 ms frames they carried. */
  appendMessages: number;
  appendedFrames: number;
  sessionUpdates: number;
  unauthorizedConnections: number;
}

/** Over this, the generator is the bottleneck (it is also the latency target). */
export const LATENESS_LIMIT_MS = 5;

/** Latency samples (ms), kept in preallocated typed arrays rather than growing JS arrays. */
class Samples {
  private readonly values: Float64Array;
  private count = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }

  add(ms: number): void {
    if (this.count < this.values.length) this.values[this.count++] = ms;
  }

  stats(): LatencyStats {
    const sorted = this.values.subarray(0, this.count).sort();
    return {
      count: this.count,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: this.count ? sorted[this.count - 1] : NaN,
    };
  }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array | Float32Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

class Window {
  constructor(
    readonly startNs: number,
    readonly endNs: number,
  ) {}

  has(ns: number): boolean {
    return ns >= this.startNs && ns < this.endNs;
  }
}

function associate(
  calls: CallerRecord[],
  connections: ConnectionRecord[],
  format: InputFormat,
): { connOfCall: Int32Array; conflicts: number } {
  const connOfCall = new Int32Array(calls.length).fill(-1);
  let conflicts = 0;
  for (const call of calls) {
    if (call.connId >= 0 && call.connId < connections.length) connOfCall[call.index] = call.connId;
  }
  if (format === 'g711_ulaw') {
    for (const conn of connections) {
      if (conn.tagCall < 0 || conn.tagCall >= calls.length) continue;
      const known = connOfCall[conn.tagCall];
      if (known === -1) connOfCall[conn.tagCall] = conn.connId;
      else if (known !== conn.connId) conflicts++;
    }
  }
  return { connOfCall, conflicts };
}

function totalFramesSent(calls: CallerRecord[]): number {
  return calls.reduce((sum, call) => sum + call.framesSent, 0);
}

function analyseInbound(
  calls: CallerRecord[],
  connections: ConnectionRecord[],
  connOfCall: Int32Array,
  format: InputFormat,
  window: Window,
): InboundSummary {
  const sent = totalFramesSent(calls);
  const all = new Samples(sent);
  const steady = new Samples(sent);
  const served = new Uint8Array(connections.length);
  let received = 0;
  let reordered = 0;
  let duplicates = 0;
  let unmatched = 0;
  for (const call of calls) {
    const connId = connOfCall[call.index];
    if (connId === -1) continue;
    served[connId] = 1;
    const conn = connections[connId];
    const record = (frame: number, append: number) => {
      const latencyMs = (conn.recvNs[append] - call.sendNs[frame]) / 1e6;
      all.add(latencyMs);
      if (window.has(call.sendNs[frame])) steady.add(latencyMs);
    };
    if (format === 'g711_ulaw') {
      const seen = new Uint8Array(call.framesSent);
      let highest = -1;
      for (let append = 0; append < conn.recvNs.length; append++) {
        const frame = conn.tagFrame[append];
        if (frame < 0 || frame >= call.framesSent) {
          unmatched++;
          continue;
        }
        if (seen[frame]) {
          duplicates++;
          continue;
        }
        seen[frame] = 1;
        received++;
        if (frame < highest) reordered++;
        else highest = frame;
        record(frame, append);
      }
    } else {
      // The k-th append on the call's connection is the call's k-th frame (checked by level).
      const matched = Math.min(conn.recvNs.length, call.framesSent);
      for (let k = 0; k < matched; k++) record(k, k);
      received += matched;
      unmatched += conn.recvNs.length - matched;
    }
  }
  for (const conn of connections) if (!served[conn.connId]) unmatched += conn.frames;
  return {
    sent,
    received,
    lost: sent - received,
    reordered: format === 'g711_ulaw' ? reordered : null,
    duplicates,
    steady: steady.stats(),
    all: all.stats(),
    matching: format === 'g711_ulaw' ? 'tag' : 'order',
    unmatched,
    misrouted: connections.reduce((sum, conn) => sum + conn.tagCallMismatches, 0),
    levelMismatches: connections.reduce((sum, conn) => sum + conn.levelMismatches, 0),
    badSize: connections.reduce((sum, conn) => sum + conn.badSize, 0),
    associationConflicts: 0,
  };
}

function analyseOutbound(
  calls: CallerRecord[],
  connections: ConnectionRecord[],
  connOfCall: Int32Array,
  window: Window,
): OutboundSummary {
  const capacity = connections.reduce((sum, conn) => sum + conn.echoNs.length, 0);
  const all = new Samples(capacity);
  const steady = new Samples(capacity);
  const served = new Uint8Array(connections.length);
  let sent = 0;
  let received = 0;
  for (const call of calls) {
    const connId = connOfCall[call.index];
    if (connId === -1) continue;
    served[connId] = 1;
    const conn = connections[connId];
    for (let i = 0; i < conn.echoNs.length; i++) {
      const sentNs = conn.echoNs[i];
      if (Number.isNaN(sentNs)) continue; // the service had closed this connection
      sent++;
      const recvNs = i < call.echoRecvNs.length ? call.echoRecvNs[i] : NaN;
      if (Number.isNaN(recvNs)) continue;
      received++;
      const latencyMs = (recvNs - sentNs) / 1e6;
      all.add(latencyMs);
      if (window.has(sentNs)) steady.add(latencyMs);
    }
  }
  // Echoes from a connection no call heard from are sent and never received.
  for (const conn of connections) if (!served[conn.connId]) sent += conn.echoes;
  const sum = (pick: (call: CallerRecord) => number) =>
    calls.reduce((total, call) => total + pick(call), 0);
  return {
    sent,
    received,
    lost: sent - received,
    reordered: sum((call) => call.echoReordered),
    duplicates: sum((call) => call.echoDuplicates),
    steady: steady.stats(),
    all: all.stats(),
    crossTalk: sum((call) => call.crossTalk),
    untagged: sum((call) => call.untaggedMedia),
  };
}

function analyseLateness(calls: CallerRecord[]): LatenessSummary {
  const samples = new Samples(totalFramesSent(calls));
  for (const call of calls) for (const lateMs of call.lateMs) samples.add(lateMs);
  const stats = samples.stats();
  return { ...stats, overloaded: stats.p99 > LATENESS_LIMIT_MS };
}

function summariseCalls(calls: CallerRecord[]): CallSummary {
  const failures: Record<string, number> = {};
  for (const call of calls) {
    if (call.failure !== undefined) failures[call.failure] = (failures[call.failure] ?? 0) + 1;
  }
  return {
    requested: calls.length,
    cameUp: calls.filter((call) => !Number.isNaN(call.upAtNs)).length,
    completed: calls.filter((call) => call.completed).length,
    failed: calls.filter((call) => call.failure !== undefined).length,
    failures,
  };
}

export function analyse(
  generator: GeneratorResult,
  fake: FakeResult,
  format: InputFormat,
): Analysis {
  const { calls } = generator;
  const { connections } = fake;
  const window = new Window(generator.steadyStartNs, generator.steadyEndNs);
  const { connOfCall, conflicts } = associate(calls, connections, format);
  const inbound = analyseInbound(calls, connections, connOfCall, format, window);
  inbound.associationConflicts = conflicts;
  return {
    calls: summariseCalls(calls),
    inbound,
    outbound: analyseOutbound(calls, connections, connOfCall, window),
    generatorLateness: analyseLateness(calls),
    marksEchoed: calls.reduce((sum, call) => sum + call.marksEchoed, 0),
    appendMessages: connections.reduce((sum, conn) => sum + conn.appendMessages, 0),
    appendedFrames: connections.reduce((sum, conn) => sum + conn.frames, 0),
    sessionUpdates: connections.reduce((sum, conn) => sum + conn.sessionUpdates, 0),
    unauthorizedConnections: connections.filter((conn) => !conn.authorized).length,
  };
}
