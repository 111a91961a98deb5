import type { SharedCallEvent } from './call-directory.js';
import { eventMessageSchema, type EventMessage } from './bus-messages.js';
import type { MemoryCallDirectory } from './memory-call-directory.js';
import { redisKeys as keys } from './redis-keys.js';
import type { RedisStore, StoreObserver } from './redis-store.js';
import type { SignedBus } from './signed-bus.js';

type Listener = (event: SharedCallEvent) => void;

/**
 * The event bus: every `call.*` event of this instance's calls goes, signed, to the call's own
 * channel (`bridge:events:<CallSid>`), for followers on other instances, which subscribe to that
 * channel only while someone follows the call. An event that is not signed, or is stale, or is
 * for another call than its channel's, never reaches a follower.
 */
export class RedisEvents {
  private readonly followers = new Map<string, Set<Listener>>();

  constructor(
    private readonly store: RedisStore,
    private readonly bus: SignedBus,
    private readonly local: MemoryCallDirectory,
    private readonly instanceId: string,
    private readonly observer: StoreObserver,
  ) {}

  follow(callSid: string, listener: Listener): () => void {
    const stopLocal = this.local.follow(callSid, listener);
    const channel = keys.events(callSid);
    let listeners = this.followers.get(channel);
    if (!listeners) {
      this.followers.set(channel, (listeners = new Set()));
      this.store.sub.subscribe(channel).catch(() => this.observer.storeError('subscribe'));
    }
    listeners.add(listener);
    return () => {
      stopLocal();
      const current = this.followers.get(channel);
      if (!current?.delete(listener) || current.size > 0) return;
      this.followers.delete(channel);
      this.store.sub.unsubscribe(channel).catch(() => undefined);
    };
  }

  /** One of this instance's events, out to the call's channel. */
  forward(event: SharedCallEvent): void {
    if (!this.store.isUp || typeof event.callSid !== 'string') return;
    const message: EventMessage = { type: 'event', origin: this.instanceId, event };
    void this.bus.publish('publish', keys.events(event.callSid), message);
  }

  /** A message on one of the event channels this instance follows. */
  onMessage(channel: string, raw: Buffer): void {
    const message = this.bus.open(channel, raw, eventMessageSchema);
    if (!message || message.origin === this.instanceId) return; // ours: followers here had it
    if (keys.events(message.event.callSid) !== channel)
      return void this.bus.reject('invalid', channel);
    for (const listener of this.followers.get(channel) ?? []) listener(message.event);
  }
}
