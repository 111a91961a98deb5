import type { DirectoryLog, RedisStore } from './redis-store.js';

/**
 * Whether the subscriber still hears the bus. A subscriber whose flow died without a close (a NAT
 * or load balancer dropped it, a half-open socket) hears nothing and says nothing, and control
 * requests for this instance's calls then time out on every other instance. So on each heartbeat
 * the instance publishes a signed beat on its own control channel; when nothing at all has
 * reached the subscriber for `silentMs` while Redis answers commands, the subscriber is
 * reconnected (ioredis then subscribes again to every channel it had).
 */
export class SubscriberWatch {
  private lastHeardAt = Date.now();

  constructor(
    private readonly store: RedisStore,
    private readonly publishBeat: () => Promise<unknown>,
    private readonly silentMs: number,
    private readonly log: DirectoryLog,
  ) {}

  /** A message reached the subscriber (any channel). */
  heard(): void {
    this.lastHeardAt = Date.now();
  }

  /** One heartbeat: judges the silence so far, then sends the next beat. */
  tick(): void {
    const now = Date.now();
    // Redis away: nothing to hear, and no verdict until it answers again.
    if (!this.store.isUp || this.store.isClosing) {
      this.lastHeardAt = now;
      return;
    }
    if (now - this.lastHeardAt > this.silentMs) {
      this.log.warn(
        `Redis subscriber heard nothing for ${Math.round((now - this.lastHeardAt) / 1000)} s, not even this instance's own beat: reconnecting it`,
      );
      this.lastHeardAt = now;
      this.store.sub.disconnect(true);
    }
    void this.publishBeat();
  }
}
