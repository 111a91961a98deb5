import type { z } from 'zod';
import type { RedisStore } from './redis-store.js';
import type { SignedBus } from './signed-bus.js';

/**
 * Signed channels of the cluster bus for a feature that needs its own (the listen relay):
 * subscribe to a channel, publish on one, every message sealed and opened by the SignedBus
 * (HMAC under CLUSTER_SECRET, fresh, of the expected shape). Only in cluster mode: a
 * single-process bridge has no bus, and CallDirectory.channels() is undefined there.
 */
export interface ClusterChannels {
  readonly instanceId: string;
  /** Subscribes (resolved once Redis confirmed it); messages are raw: `open` them. */
  subscribe(channel: string, onMessage: (raw: Buffer) => void): Promise<() => void>;
  /** Publishes `body` signed for `channel`; how many got it, undefined if Redis failed. */
  publish(channel: string, body: unknown): Promise<number | undefined>;
  /** What `raw`, read from `channel`, says, if signed for it, fresh and of `schema`'s shape. */
  open<T>(channel: string, raw: Buffer, schema: z.ZodType<T>): T | undefined;
  /** Drops a signed message found out of place (a replay, a gap), counted and logged. */
  replayed(channel: string): void;
  /**
   * Runs `handler` as the bus is about to close (shutdown, after the drain), so that a relay's
   * last message (its `close`) still goes out.
   */
  onClosing(handler: () => void): void;
}

/** ClusterChannels on the directory's Redis connections. */
export class RedisChannels implements ClusterChannels {
  private readonly handlers = new Map<string, (raw: Buffer) => void>();
  private readonly closingHandlers: Array<() => void> = [];

  constructor(
    private readonly store: RedisStore,
    private readonly bus: SignedBus,
    readonly instanceId: string,
  ) {
    store.beforeClose(async () => {
      for (const handler of this.closingHandlers) handler();
      // Relays publish what they queued on the next turn (RelayLink): before the connections quit.
      await new Promise((resolve) => setImmediate(resolve));
    });
  }

  onClosing(handler: () => void): void {
    this.closingHandlers.push(handler);
  }

  async subscribe(channel: string, onMessage: (raw: Buffer) => void): Promise<() => void> {
    this.handlers.set(channel, onMessage);
    const unsubscribe = () => {
      if (this.handlers.get(channel) !== onMessage) return;
      this.handlers.delete(channel);
      this.store.sub.unsubscribe(channel).catch(() => undefined);
    };
    try {
      await this.store.sub.subscribe(channel);
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  publish(channel: string, body: unknown): Promise<number | undefined> {
    return this.bus.publish('relay', channel, body);
  }

  open<T>(channel: string, raw: Buffer, schema: z.ZodType<T>): T | undefined {
    return this.bus.open(channel, raw, schema);
  }

  replayed(channel: string): void {
    this.bus.reject('replayed', channel);
  }

  /** A message on the subscriber: true if it was on one of these channels. */
  dispatch(channel: string, raw: Buffer): boolean {
    const handler = this.handlers.get(channel);
    handler?.(raw);
    return handler !== undefined;
  }
}
