import { Injectable } from '@nestjs/common';
import type { CallOutcome } from '../call/call-outcome.js';
import type { BusRejection } from '../directory/bus-envelope.js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BoundedLabel } from './bounded-label.js';

/** Per-call counters the metrics read at scrape time (nothing is counted per frame here). */
export interface LiveCallStats {
  framesIn: number;
  framesOut: number;
  framesDropped: number;
  bargeIns: number;
  /** Upstream reconnects (the console shows them; not a metric of their own). */
  reconnects?: number;
}

export type StreamRefusal =
  | 'pending_pool_full'
  | 'no_capacity'
  | 'start_timeout'
  | 'unauthenticated'
  | 'replay'
  | 'media_flood'
  /** a started stream that kept sending frames other than media faster than Twilio does */
  | 'frame_flood'
  /** pushed out of the full pending pool by a newer upgrade */
  | 'evicted'
  /** too many, too large or too much in frames before a valid `start` */
  | 'pre_start_budget'
  /** a started stream that kept sending large frames Twilio never sends (MAX_LARGE_DROPS_PER_CALL) */
  | 'malformed';

/**
 * Distinct `code` labels of bridge_openai_errors_total: OpenAI's codes are a few dozen, but a
 * label is a series kept for the life of the process, and a code is the upstream's word.
 */
export const MAX_OPENAI_ERROR_CODES = 64;

const LATENCY_BUCKETS_S = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];
/** Barge-in: from speech_started to Twilio confirming the clear (a network round trip or so). */
const REACTION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2];

/**
 * The bridge's Prometheus metrics, in a registry of its own (several apps can share a process,
 * as the tests do). Frame counters are summed at scrape time from the live calls plus the totals
 * of ended ones, so the per-frame path pays nothing for them.
 */
@Injectable()
export class BridgeMetrics {
  readonly registry = new Registry();
  private liveCalls: () => Iterable<LiveCallStats> = () => [];
  private pendingStreams: () => { unauthenticated: number; authenticated: number } = () => ({
    unauthenticated: 0,
    authenticated: 0,
  });
  private readonly endedTotals: LiveCallStats = {
    framesIn: 0,
    framesOut: 0,
    framesDropped: 0,
    bargeIns: 0,
  };

  private readonly calls = new Counter({
    name: 'bridge_calls_total',
    help: 'Calls that ended, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly openaiErrors = new Counter({
    name: 'bridge_openai_errors_total',
    help: 'OpenAI Realtime error events and failed connections, by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  private readonly openaiErrorCodes = new BoundedLabel(MAX_OPENAI_ERROR_CODES);
  private readonly reconnects = new Counter({
    name: 'bridge_openai_reconnects_total',
    help: 'Realtime sessions replaced mid-call (socket lost or session limit)',
    registers: [this.registry],
  });
  private readonly refusedStreams = new Counter({
    name: 'bridge_streams_refused_total',
    help: 'Media streams refused or cut off before becoming a call, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly tokens = new Counter({
    name: 'bridge_openai_tokens_total',
    help: 'Tokens used, from response.done usage',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  private readonly firstAudio = new Histogram({
    name: 'bridge_first_audio_seconds',
    help: 'Call start to the first assistant audio frame sent to Twilio',
    buckets: LATENCY_BUCKETS_S,
    registers: [this.registry],
  });
  private readonly responseLatency = new Histogram({
    name: 'bridge_response_latency_seconds',
    help: 'Caller stops speaking (speech_stopped) to the first audio of the answer',
    buckets: LATENCY_BUCKETS_S,
    registers: [this.registry],
  });
  private readonly bargeInReaction = new Histogram({
    name: 'bridge_barge_in_reaction_seconds',
    help:
      'Caller starts speaking (speech_started, or a key press) to Twilio echoing the marks the ' +
      'clear flushed, i.e. playback has really stopped',
    buckets: REACTION_BUCKETS_S,
    registers: [this.registry],
  });
  private readonly responseProblems = new Counter({
    name: 'bridge_openai_response_problems_total',
    help: 'Responses that ended failed or incomplete, by status and reason',
    labelNames: ['status', 'reason'] as const,
    registers: [this.registry],
  });
  private readonly streamStatus = new Counter({
    name: 'bridge_twilio_stream_events_total',
    help: 'Twilio <Stream> status callbacks, by StreamEvent (stream-started, stream-stopped, stream-error)',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  private redisUp?: boolean;
  private readonly redisErrors = new Counter({
    name: 'bridge_redis_errors_total',
    help: 'Redis commands that failed (the bridge went on without them), by operation',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });
  private readonly busRejections = new Counter({
    name: 'bridge_cluster_bus_rejected_total',
    help:
      'Messages and records read from Redis and dropped (cluster mode): unsigned or badly signed, ' +
      'stale, malformed, replayed or too large, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly redisDisconnects = new Counter({
    name: 'bridge_redis_disconnects_total',
    help: 'Times the connection to Redis was lost (cluster mode)',
    registers: [this.registry],
  });

  constructor() {
    const redisUp: Gauge = new Gauge({
      name: 'bridge_redis_up',
      help: 'Redis reachable (1) or not (0); absent without REDIS_URL',
      registers: [this.registry],
      collect: () => {
        if (this.redisUp === undefined) redisUp.reset();
        else redisUp.set(this.redisUp ? 1 : 0);
      },
    });
    // prom-client's names already start with process_ / nodejs_: bridge_process_cpu_seconds_total.
    collectDefaultMetrics({ register: this.registry, prefix: 'bridge_' });
    const activeCalls: Gauge = new Gauge({
      name: 'bridge_active_calls',
      help: 'Calls in progress',
      registers: [this.registry],
      collect: () => activeCalls.set([...this.liveCalls()].length),
    });
    const pending: Gauge<'kind'> = new Gauge({
      name: 'bridge_pending_streams',
      help: 'Media streams not yet a call: unauthenticated (waiting for start) and authenticated (starting)',
      labelNames: ['kind'] as const,
      registers: [this.registry],
      collect: () => {
        const now = this.pendingStreams();
        pending.set({ kind: 'unauthenticated' }, now.unauthenticated);
        pending.set({ kind: 'authenticated' }, now.authenticated);
      },
    });
    const frames: Counter<'direction'> = new Counter({
      name: 'bridge_frames_total',
      help: 'Audio frames bridged, by direction (in: caller to OpenAI, out: OpenAI to caller)',
      labelNames: ['direction'] as const,
      registers: [this.registry],
      collect: () => {
        const total = this.totals();
        frames.reset();
        frames.inc({ direction: 'in' }, total.framesIn);
        frames.inc({ direction: 'out' }, total.framesOut);
      },
    });
    this.summedCounter(
      'bridge_frames_dropped_total',
      'Frames dropped: invalid Twilio frames, and audio dropped under backpressure',
      'framesDropped',
    );
    this.summedCounter(
      'bridge_barge_ins_total',
      'Times a caller interrupted the assistant',
      'bargeIns',
    );
  }

  /** A counter whose value is the sum of one per-call count, read at scrape time. */
  private summedCounter(name: string, help: string, field: keyof LiveCallStats): void {
    const counter: Counter = new Counter({
      name,
      help,
      registers: [this.registry],
      collect: () => {
        counter.reset();
        counter.inc(this.totals()[field]);
      },
    });
  }

  /** Where the live calls' counters come from (the call registry). */
  trackLiveCalls(source: () => Iterable<LiveCallStats>): void {
    this.liveCalls = source;
  }

  /** Where the pending stream counts come from (the call registry). */
  trackPendingStreams(source: () => { unauthenticated: number; authenticated: number }): void {
    this.pendingStreams = source;
  }

  /** A media stream refused or cut off before it became a call, by reason. */
  streamRefused(reason: StreamRefusal): void {
    this.refusedStreams.inc({ reason });
  }

  callEnded(outcome: CallOutcome, stats: LiveCallStats): void {
    this.calls.inc({ outcome });
    this.endedTotals.framesIn += stats.framesIn;
    this.endedTotals.framesOut += stats.framesOut;
    this.endedTotals.framesDropped += stats.framesDropped;
    this.endedTotals.bargeIns += stats.bargeIns;
  }

  /** Cluster mode: Redis became reachable (true) or was lost (false). */
  redisState(up: boolean): void {
    if (this.redisUp === true && !up) this.redisDisconnects.inc();
    this.redisUp = up;
  }

  /** A cluster bus message or Redis record failed its signature, freshness or schema. */
  clusterBusRejected(reason: BusRejection): void {
    this.busRejections.inc({ reason });
  }

  redisError(operation: string): void {
    this.redisErrors.inc({ operation });
  }

  openaiError(code: string): void {
    this.openaiErrors.inc({ code: this.openaiErrorCodes.of(code) });
  }

  reconnected(): void {
    this.reconnects.inc();
  }

  tokensUsed(input: number, output: number): void {
    if (input) this.tokens.inc({ type: 'input' }, input);
    if (output) this.tokens.inc({ type: 'output' }, output);
  }

  observeFirstAudio(seconds: number): void {
    this.firstAudio.observe(seconds);
  }

  observeResponseLatency(seconds: number): void {
    this.responseLatency.observe(seconds);
  }

  /** A response ended `failed` or `incomplete` (the reason is bounded by the API's own codes). */
  responseProblem(status: 'failed' | 'incomplete', reason: string): void {
    this.responseProblems.inc({ status, reason: reason.slice(0, 64) });
  }

  /** A stream status callback from Twilio; `event` is one of a few known names or `other`. */
  twilioStreamEvent(event: string): void {
    this.streamStatus.inc({ event });
  }

  observeBargeInReaction(seconds: number): void {
    this.bargeInReaction.observe(seconds);
  }

  private totals(): LiveCallStats {
    const total = { ...this.endedTotals };
    for (const call of this.liveCalls()) {
      total.framesIn += call.framesIn;
      total.framesOut += call.framesOut;
      total.framesDropped += call.framesDropped;
      total.bargeIns += call.bargeIns;
    }
    return total;
  }
}
