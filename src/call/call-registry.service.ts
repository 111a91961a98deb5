import { Inject, Injectable } from '@nestjs/common';
import { CallDirectory } from '../directory/call-directory.js';
import { limitsConfig } from '../config/config.namespaces.js';
import type { LimitsConfig } from '../config/config.namespaces.js';
import { BridgeMetrics, type LiveCallStats } from '../metrics/bridge-metrics.service.js';
import type { CallOutcome } from './call-outcome.js';
import type { TokenUsage } from '../events/call-events.js';
import type { CallActivity } from './call-activity.js';
import type { CallContext } from './call-context.js';

/**
 * A call in progress, whatever its transport: a Media Streams `CallOrchestrator` or a SIP call
 * (src/sip-call/). The registry, the drain and the call-control API only need this much.
 */
export interface LiveCall {
  readonly context: CallContext;
  readonly stats: LiveCallStats;
  readonly usage: TokenUsage;
  /** What the call is doing now (state, levels, latency), for the operator console. */
  readonly activity: CallActivity;
  close(reason: string, level?: 'log' | 'warn', outcome?: CallOutcome): void;
  /**
   * Resolves when what `close` set going has finished (a SIP call's hang-up at OpenAI, each
   * bounded by the calls API's own deadline): the shutdown drain waits for it, so the process
   * does not exit with the line still up. Absent where close leaves nothing under way.
   */
  settled?(): Promise<void>;
  /**
   * Hangs up at once through the call's own carrier API. Absent for Media Streams calls, which
   * the API hangs up through Twilio's REST API.
   */
  hangUpNow?(reason: string): Promise<void>;
  /** Transfers at once through the call's own carrier API (SIP REFER); absent like hangUpNow. */
  transferNow?(target: string): Promise<void>;
}

/**
 * What `hangUpNow`/`transferNow` throw when the call cannot take the command in its present
 * state (a SIP call not answered yet, or ended meanwhile): the caller's state, not the carrier's
 * failure, so the API answers 409 or 404 with the reason instead of 502.
 */
export class CallStateRefusal extends Error {
  constructor(
    readonly error: 'refused' | 'unknown_call',
    message: string,
  ) {
    super(message);
  }
}

/** How long an ended call's sid is remembered, so a replayed `start` for it is refused. */
const ENDED_CALL_MEMORY_MS = 60 * 60 * 1000;

/** A media stream that has not yet proved itself with a valid `start`. */
export interface PendingStream {
  /** Made to leave the full pending pool for a newer stream: it is destroyed. */
  evict(): void;
}

/**
 * The active calls of this instance: admission against MAX_CONCURRENT_CALLS, lookup by CallSid,
 * and memory of recently ended calls. Authenticate before you allocate: a call slot is reserved
 * only for a stream whose `start` carried a valid token. Every upgrade, signed or not (Twilio
 * signs the stream URL, the same for every call, so a captured signature replays forever), waits
 * for its `start` in a bounded pool (MAX_PENDING_STREAMS) that can never take a slot from a real
 * call; when it is full the oldest waiting stream is evicted, since a real Twilio stream sends
 * `start` within milliseconds and so is never the oldest for long.
 */
@Injectable()
export class CallRegistry {
  private readonly sessions = new Map<string, LiveCall>();
  private readonly endedAt = new Map<string, number>();
  /** Authenticated streams whose session is still being created. */
  private reservedSlots = 0;
  /** Upgrades that have not yet sent a valid `start`, unsigned and signed, oldest first. */
  private readonly pending = new Set<PendingStream>();
  private readonly pendingSigned = new Set<PendingStream>();
  private draining = false;

  constructor(
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
    metrics: BridgeMetrics,
    private readonly directory: CallDirectory,
  ) {
    metrics.trackLiveCalls(() => [...this.sessions.values()].map((session) => session.stats));
    metrics.trackPendingStreams(() => ({
      unauthenticated: this.pending.size + this.pendingSigned.size,
      authenticated: this.reservedSlots,
    }));
  }

  /** Streams not yet a call: those waiting for a valid `start`, and authenticated ones starting. */
  get pendingStreams(): { unauthenticated: number; authenticated: number; max: number } {
    return {
      unauthenticated: this.pending.size + this.pendingSigned.size,
      authenticated: this.reservedSlots,
      max: this.limits.maxPendingStreams,
    };
  }

  get activeCalls(): number {
    return this.sessions.size;
  }

  get maxConcurrentCalls(): number {
    return this.limits.maxConcurrentCalls;
  }

  /** True once shutdown has begun: no new call is admitted. */
  get isDraining(): boolean {
    return this.draining;
  }

  stopAdmitting(): void {
    this.draining = true;
  }

  /** True when one more call fits (authenticated streams still starting count too). */
  hasCapacity(): boolean {
    return (
      !this.draining && this.sessions.size + this.reservedSlots < this.limits.maxConcurrentCalls
    );
  }

  /** Reserves a call slot for an authenticated stream until its session exists; false when full. */
  reserveSlot(): boolean {
    if (!this.hasCapacity()) return false;
    this.reservedSlots++;
    return true;
  }

  releaseSlot(): void {
    this.reservedSlots = Math.max(0, this.reservedSlots - 1);
  }

  /**
   * Puts a new stream in the pool of those waiting for `start`; when the pool is full, the oldest
   * waiting stream is evicted to make room, so strangers filling the pool cannot keep real
   * calls out. Upgrades with a valid signature (Twilio signs its own) rank above unsigned ones:
   * an unsigned newcomer evicts only an unsigned stream, and is itself destroyed when every
   * waiting stream is signed, so a flood of unsigned upgrades cannot push Twilio's streams out
   * however fast it comes.
   */
  addPending(stream: PendingStream, signed = false): void {
    while (this.pending.size + this.pendingSigned.size >= this.limits.maxPendingStreams) {
      const pool = this.pending.size > 0 ? this.pending : signed ? this.pendingSigned : undefined;
      if (!pool) return stream.evict();
      const oldest = pool.values().next().value as PendingStream;
      pool.delete(oldest);
      oldest.evict();
    }
    (signed ? this.pendingSigned : this.pending).add(stream);
  }

  /** The stream left the pool: it sent a valid `start`, or it is gone. */
  removePending(stream: PendingStream): void {
    this.pending.delete(stream);
    this.pendingSigned.delete(stream);
  }

  /** True when the call ended (on this instance) within the last hour. */
  recentlyEnded(callSid: string): boolean {
    return this.endedAt.has(callSid);
  }

  /** Why this CallSid cannot start a stream now, if it cannot. */
  refusalFor(callSid: string): string | undefined {
    if (this.sessions.has(callSid)) return 'a stream for this call is already active';
    if (this.endedAt.has(callSid)) return 'this call has already ended';
    return undefined;
  }

  add(session: LiveCall): void {
    this.sessions.set(session.context.callSid, session);
  }

  remove(session: LiveCall): void {
    const { callSid } = session.context;
    if (this.sessions.get(callSid) !== session) return;
    this.sessions.delete(callSid);
    this.rememberEnded(callSid);
    // Its cluster lease goes too (if that fails, the lease simply expires).
    void this.directory.release(callSid);
  }

  get(callSid: string): LiveCall | undefined {
    return this.sessions.get(callSid);
  }

  all(): LiveCall[] {
    return [...this.sessions.values()];
  }

  private rememberEnded(callSid: string): void {
    const now = Date.now();
    this.endedAt.set(callSid, now);
    // Maps iterate in insertion order, so the oldest entries come first.
    for (const [sid, at] of this.endedAt) {
      if (now - at < ENDED_CALL_MEMORY_MS) break;
      this.endedAt.delete(sid);
    }
  }
}
