import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { Response } from 'express';
import { limitsConfig, type LimitsConfig } from '../config/config.namespaces.js';
import { CallEvent, type AnyCallEvent } from '../events/call-events.js';

/**
 * Bytes a follower may leave unread in its response buffer. A follower that does not keep up is
 * dropped (with a last comment line saying so) instead of growing the bridge's memory.
 */
export const MAX_FOLLOWER_BUFFER_BYTES = 64 * 1024;

export type FollowRefusal = 'too_many' | 'too_many_for_call';

interface Follower {
  callSid: string;
  res: Response;
  timer: NodeJS.Timeout;
}

/**
 * Server-sent-event followers of call events, bounded: MAX_SSE_FOLLOWERS in all,
 * MAX_SSE_FOLLOWERS_PER_CALL per call, each at most SSE_MAX_DURATION_S long, and dropped when
 * it stops reading. One listener on the event bus for all of them, so each event costs one
 * lookup, not one call per follower.
 */
@Injectable()
export class CallEventFollowers implements OnModuleDestroy {
  private readonly byCall = new Map<string, Set<Follower>>();
  private count = 0;
  private readonly listener = (event: AnyCallEvent) => this.publish(event);

  constructor(
    private readonly events: EventEmitter2,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {
    this.events.on('call.*', this.listener);
  }

  /** Followers connected now. */
  get size(): number {
    return this.count;
  }

  /** Why one more follower of this call cannot be had now, if it cannot. */
  refusalFor(callSid: string): FollowRefusal | undefined {
    if (this.count >= this.limits.maxSseFollowers) return 'too_many';
    if ((this.byCall.get(callSid)?.size ?? 0) >= this.limits.maxSseFollowersPerCall) {
      return 'too_many_for_call';
    }
    return undefined;
  }

  /** Starts the event stream on `res` (the caller has checked refusalFor). */
  follow(callSid: string, res: Response): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(': following call events\n\n');
    const follower: Follower = {
      callSid,
      res,
      timer: setTimeout(
        () => this.end(follower, 'maximum follow time reached'),
        this.limits.sseMaxDurationS * 1000,
      ),
    };
    let set = this.byCall.get(callSid);
    if (!set) this.byCall.set(callSid, (set = new Set()));
    set.add(follower);
    this.count++;
    res.on('close', () => this.remove(follower));
  }

  /** A stream for a call that has already ended: says so, and ends. */
  ended(res: Response): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.end(': the call has already ended\n\n');
  }

  onModuleDestroy(): void {
    this.events.off('call.*', this.listener);
    for (const set of [...this.byCall.values()]) {
      for (const follower of [...set]) this.end(follower, 'the bridge is shutting down');
    }
  }

  private publish(event: AnyCallEvent): void {
    const set = this.byCall.get(event.callSid);
    if (!set) return;
    const frame = `event: ${event.event}\ndata: ${JSON.stringify(event)}\n\n`;
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
    const set = this.byCall.get(follower.callSid);
    if (!set?.delete(follower)) return false;
    if (set.size === 0) this.byCall.delete(follower.callSid);
    this.count--;
    clearTimeout(follower.timer);
    return true;
  }
}
