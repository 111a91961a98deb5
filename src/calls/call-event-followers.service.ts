import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Response } from 'express';
import { CallDirectory, type SharedCallEvent } from '../cluster/call-directory.js';
import { limitsConfig, type LimitsConfig } from '../config/config.namespaces.js';
import { CallEvent } from '../events/call-events.js';

/**
 * Bytes a follower may leave unread in its response buffer. A follower that does not keep up is
 * dropped (with a last comment line saying so) instead of growing the bridge's memory.
 */
export const MAX_FOLLOWER_BUFFER_BYTES = 64 * 1024;

/** How often followed calls are checked for having vanished (a lease lives 10 s). */
const GONE_CHECK_MS = 5_000;

export type FollowRefusal = 'too_many' | 'too_many_for_call';

interface CallFollowers {
  followers: Set<Follower>;
  /** Ends this call's subscription to its events (through the CallDirectory). */
  unsubscribe: () => void;
}

interface Follower {
  callSid: string;
  res: Response;
  timer: NodeJS.Timeout;
}

/**
 * Server-sent-event followers of call events, bounded: MAX_SSE_FOLLOWERS in all,
 * MAX_SSE_FOLLOWERS_PER_CALL per call, each at most SSE_MAX_DURATION_S long, and dropped when
 * it stops reading. One subscription per followed call (through the CallDirectory, so the call
 * may live on another instance), shared by all of that call's followers.
 */
@Injectable()
export class CallEventFollowers implements OnModuleDestroy {
  private readonly byCall = new Map<string, CallFollowers>();
  private count = 0;

  /** Ends followers of calls that are gone without a `call.ended` (their instance died). */
  private readonly sweeper = setInterval(() => void this.sweep(), GONE_CHECK_MS).unref();

  constructor(
    private readonly directory: CallDirectory,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {}

  /** Followers connected now. */
  get size(): number {
    return this.count;
  }

  /** Why one more follower of this call cannot be had now, if it cannot. */
  refusalFor(callSid: string): FollowRefusal | undefined {
    if (this.count >= this.limits.maxSseFollowers) return 'too_many';
    if ((this.byCall.get(callSid)?.followers.size ?? 0) >= this.limits.maxSseFollowersPerCall) {
      return 'too_many_for_call';
    }
    return undefined;
  }

  /**
   * Starts the event stream on `res` with the call's past events, then follows it live (the
   * caller has checked refusalFor).
   */
  follow(callSid: string, res: Response, past: readonly { event: string }[] = []): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(': following call events\n\n');
    for (const event of past) res.write(sseFrame(event));
    const follower: Follower = {
      callSid,
      res,
      timer: setTimeout(
        () => this.end(follower, 'maximum follow time reached'),
        this.limits.sseMaxDurationS * 1000,
      ),
    };
    let call = this.byCall.get(callSid);
    if (!call) {
      // One subscription per followed call, whichever instance carries it (cluster mode).
      const unsubscribe = this.directory.follow(callSid, (event) => this.publish(event));
      this.byCall.set(callSid, (call = { followers: new Set(), unsubscribe }));
    }
    call.followers.add(follower);
    this.count++;
    res.on('close', () => this.remove(follower));
  }

  /** A stream for a call that has already ended: its past events, then says so, and ends. */
  ended(res: Response, past: readonly { event: string }[] = []): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const event of past) res.write(sseFrame(event));
    res.end(': the call has already ended\n\n');
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
    for (const call of [...this.byCall.values()]) {
      for (const follower of [...call.followers]) this.end(follower, 'the bridge is shutting down');
    }
  }

  private publish(event: SharedCallEvent): void {
    const set = this.byCall.get(event.callSid)?.followers;
    if (!set) return;
    const frame = sseFrame(event);
    for (const follower of [...set]) {
      if (event.event === CallEvent.Ended) {
        follower.res.write(frame);
        this.end(follower);
      } else if (follower.res.writableLength > MAX_FOLLOWER_BUFFER_BYTES) {
        // Not reading: drop it rather than hold ever more for it.
        this.end(follower, 'dropped: not reading fast enough');
      } else {
        follower.res.write(frame);
      }
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
      for (const follower of [...call.followers]) this.end(follower, 'the call is no longer live');
    }
  }

  private end(follower: Follower, comment?: string): void {
    if (!this.remove(follower)) return;
    // The last comment is queued behind whatever is unread; if that never drains, the socket
    // is destroyed anyway.
    if (comment) follower.res.write(`: ${comment}\n\n`);
    follower.res.end();
    if (follower.res.writableLength > MAX_FOLLOWER_BUFFER_BYTES) follower.res.destroy();
  }

  /** Forgets a follower; false when it was already gone. */
  private remove(follower: Follower): boolean {
    const call = this.byCall.get(follower.callSid);
    if (!call?.followers.delete(follower)) return false;
    if (call.followers.size === 0) {
      this.byCall.delete(follower.callSid);
      call.unsubscribe();
    }
    this.count--;
    clearTimeout(follower.timer);
    return true;
  }
}

function sseFrame(event: { event: string }): string {
  return `event: ${event.event}\ndata: ${JSON.stringify(event)}\n\n`;
}
