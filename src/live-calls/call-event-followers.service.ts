import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Response } from 'express';
import { CallDirectory, type SharedCallEvent } from '../directory/call-directory.js';
import { limitsConfig, type LimitsConfig } from '../config/config.namespaces.js';
import { CallEvent } from '../events/call-events.js';
import { SseFollowerLimits } from '../http/sse-follower-limits.js';
import { SseStream, sseFrame, type SseSink } from '../http/sse-stream.js';

/** How often followed calls are checked for having vanished (a lease lives 10 s). */
const GONE_CHECK_MS = 5_000;

export type FollowRefusal = 'too_many' | 'too_many_for_call';

interface CallFollowers {
  streams: Set<SseSink>;
  /** Ends this call's subscription to its events (through the CallDirectory). */
  unsubscribe: () => void;
}

/**
 * Server-sent-event followers of call events, bounded: MAX_SSE_FOLLOWERS in all,
 * MAX_SSE_FOLLOWERS_PER_CALL per call, each at most SSE_MAX_DURATION_S long; each stream follows
 * the SseStream rules (event size, slow readers). One subscription per followed call (through
 * the CallDirectory, so the call may live on another instance), shared by all of its followers.
 */
@Injectable()
export class CallEventFollowers implements OnModuleDestroy {
  private readonly byCall = new Map<string, CallFollowers>();
  private readonly followers: SseFollowerLimits;

  /** Ends followers of calls that are gone without a `call.ended` (their instance died). */
  private readonly sweeper = setInterval(() => void this.sweep(), GONE_CHECK_MS).unref();

  constructor(
    private readonly directory: CallDirectory,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {
    this.followers = new SseFollowerLimits(limits.maxSseFollowers, limits.maxSseFollowersPerCall);
  }

  /** Followers connected now. */
  get size(): number {
    return this.followers.size;
  }

  /** Why one more follower of this call cannot be had now, if it cannot. */
  refusalFor(callSid: string): FollowRefusal | undefined {
    const refusal = this.followers.refusal(callSid);
    return refusal === 'too_many_for_key' ? 'too_many_for_call' : refusal;
  }

  /**
   * Starts the event stream on `res` with the call's past events, then follows it live (the
   * caller has checked refusalFor).
   */
  follow(callSid: string, res: Response, past: readonly { event: string }[] = []): void {
    this.followInto(callSid, this.openFollowing(res), past);
  }

  /**
   * The same into `stream`: this instance's client's, or one relayed to a client of another
   * instance (stream-relay/), counted alike.
   */
  followInto(callSid: string, stream: SseSink, past: readonly { event: string }[] = []): void {
    for (const event of past) stream.send(event.event, event);
    if (stream.isClosed) return;
    let call = this.byCall.get(callSid);
    if (!call) {
      // One subscription per followed call, whichever instance carries it (cluster mode).
      const unsubscribe = this.directory.follow(callSid, (event) => this.publish(event));
      this.byCall.set(callSid, (call = { streams: new Set(), unsubscribe }));
    }
    call.streams.add(stream);
    this.followers.track(stream, callSid);
    stream.onClose(() => this.remove(callSid, stream));
  }

  /** A stream for a call that has already ended: its past events, then says so, and ends. */
  ended(res: Response, past: readonly { event: string }[] = []): void {
    const stream = this.open(res);
    for (const event of past) stream.send(event.event, event);
    stream.close('the call has already ended');
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
    for (const call of [...this.byCall.values()]) {
      for (const stream of [...call.streams]) stream.close('the bridge is shutting down');
    }
  }

  /** A client's stream of a live call's events, here or relayed from the call's owner. */
  openFollowing(res: Response): SseStream {
    return this.open(res, 'following call events');
  }

  private open(res: Response, opening?: string): SseStream {
    return new SseStream(res, this.limits.sseMaxDurationS * 1000, opening);
  }

  /** Counts a client's stream whose call another instance follows (stream-relay/). */
  trackRelayed(callSid: string, stream: SseSink): void {
    this.followers.track(stream, callSid);
  }

  private publish(event: SharedCallEvent): void {
    const streams = this.byCall.get(event.callSid)?.streams;
    if (!streams) return;
    const frame = sseFrame(event.event, event);
    for (const stream of [...streams]) {
      stream.sendFrame(frame);
      if (event.event === CallEvent.Ended) stream.close();
    }
  }

  /**
   * A call whose owner was killed never sends `call.ended`; once its lease has expired it is no
   * longer live anywhere, and its followers are ended. Not while the store is down: the call
   * may well be alive, its events only unable to arrive.
   */
  private async sweep(): Promise<void> {
    if (this.byCall.size === 0 || this.directory.health().store !== 'up') return;
    for (const [callSid, call] of [...this.byCall]) {
      if (await this.directory.get(callSid)) continue;
      for (const stream of [...call.streams]) stream.close('the call is no longer live');
    }
  }

  /** Forgets a closed stream, and the call's subscription with its last follower. */
  private remove(callSid: string, stream: SseSink): void {
    const call = this.byCall.get(callSid);
    if (!call?.streams.delete(stream)) return;
    if (call.streams.size === 0) {
      this.byCall.delete(callSid);
      call.unsubscribe();
    }
  }
}
