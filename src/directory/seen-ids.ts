import { BUS_MESSAGE_WINDOW_MS } from './bus-envelope.js';

/**
 * Ids of signed bus messages already acted on (control requests, listen-relay opens), so that
 * one captured and replayed within the freshness window acts once. An id is kept for twice
 * BUS_MESSAGE_WINDOW_MS (a message is stale after the window either way of its timestamp), and
 * at most `max` of them, the oldest forgotten first.
 */
export class SeenIds {
  /** Ids with when they may be forgotten; insertion order is expiry order. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** True the first time `id` is seen (and remembers it), false after. */
  firstTime(id: string, now = Date.now()): boolean {
    for (const [old, until] of this.seen) {
      if (until > now && this.seen.size < this.max) break;
      this.seen.delete(old);
    }
    if (this.seen.has(id)) return false;
    this.seen.set(id, now + 2 * BUS_MESSAGE_WINDOW_MS);
    return true;
  }
}
