import { WEBHOOK_DEDUPE_MAX_ENTRIES, WEBHOOK_DEDUPE_TTL_MS } from './sip.constants.js';

/**
 * Which webhook deliveries have been seen, so a delivery OpenAI retries (same `webhook-id`) is
 * acted on once. An interface because in cluster mode the memory must be shared by every
 * instance (a Redis `SET NX EX` fits); async for the same reason.
 */
export interface WebhookDeliveries {
  /** True the first time `id` is seen (within the memory's lifetime), false for a repeat. */
  firstDelivery(id: string): Promise<boolean>;
}

/** Injection token of the WebhookDeliveries in use. */
export const WEBHOOK_DELIVERIES = Symbol('WEBHOOK_DELIVERIES');

/** This instance's memory of deliveries: each id kept for `ttlMs`, at most `maxEntries` ids. */
export class InMemoryWebhookDeliveries implements WebhookDeliveries {
  /** id -> when it was first seen; a Map iterates in insertion order, so oldest first. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly ttlMs = WEBHOOK_DEDUPE_TTL_MS,
    private readonly maxEntries = WEBHOOK_DEDUPE_MAX_ENTRIES,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  firstDelivery(id: string): Promise<boolean> {
    const now = this.now();
    for (const [oldId, at] of this.seen) {
      if (now - at < this.ttlMs) break;
      this.seen.delete(oldId);
    }
    if (this.seen.has(id)) return Promise.resolve(false);
    while (this.seen.size >= this.maxEntries) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
    this.seen.set(id, now);
    return Promise.resolve(true);
  }
}
