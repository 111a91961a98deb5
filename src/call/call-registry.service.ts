import { Inject, Injectable } from '@nestjs/common';
import { limitsConfig } from '../config/config.namespaces.js';
import type { LimitsConfig } from '../config/config.namespaces.js';
import { BridgeMetrics } from '../metrics/bridge-metrics.service.js';
import type { CallSession } from './call-session.js';

/** How long an ended call's sid is remembered, so a replayed `start` for it is refused. */
const ENDED_CALL_MEMORY_MS = 60 * 60 * 1000;

/**
 * The active calls of this instance: admission against MAX_CONCURRENT_CALLS (counting streams
 * that are still authenticating), lookup by CallSid, and memory of recently ended calls.
 */
@Injectable()
export class CallRegistry {
  private readonly sessions = new Map<string, CallSession>();
  private readonly endedAt = new Map<string, number>();
  private pendingStreams = 0;
  private draining = false;

  constructor(
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
    metrics: BridgeMetrics,
  ) {
    metrics.trackLiveCalls(() => [...this.sessions.values()].map((session) => session.stats));
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

  /** True when one more call fits (streams still authenticating count too). */
  hasCapacity(): boolean {
    return (
      !this.draining && this.sessions.size + this.pendingStreams < this.limits.maxConcurrentCalls
    );
  }

  /** Reserves a place for a stream that is still authenticating; false when full. */
  reserveStream(): boolean {
    if (!this.hasCapacity()) return false;
    this.pendingStreams++;
    return true;
  }

  releaseStream(): void {
    this.pendingStreams = Math.max(0, this.pendingStreams - 1);
  }

  /** Why this CallSid cannot start a stream now, if it cannot. */
  refusalFor(callSid: string): string | undefined {
    if (this.sessions.has(callSid)) return 'a stream for this call is already active';
    if (this.endedAt.has(callSid)) return 'this call has already ended';
    return undefined;
  }

  add(session: CallSession): void {
    this.sessions.set(session.context.callSid, session);
  }

  remove(session: CallSession): void {
    const { callSid } = session.context;
    if (this.sessions.get(callSid) !== session) return;
    this.sessions.delete(callSid);
    this.rememberEnded(callSid);
  }

  get(callSid: string): CallSession | undefined {
    return this.sessions.get(callSid);
  }

  all(): CallSession[] {
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
