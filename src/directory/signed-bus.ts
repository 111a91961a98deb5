import type { z } from 'zod';
import { LogThrottle } from '../logging/log-throttle.js';
import { BUS_MESSAGE_WINDOW_MS, type BusEnvelope, type BusRejection } from './bus-envelope.js';
import {
  BUS_REJECT_LOG_BURST,
  BUS_REJECT_LOG_LINES_PER_S,
  MAX_BUS_MESSAGE_BYTES,
} from './cluster.constants.js';
import type { DirectoryLog, RedisStore, StoreObserver } from './redis-store.js';

/**
 * Everything this instance writes to Redis for other instances to read goes out sealed (HMAC
 * under CLUSTER_SECRET, with a timestamp), and everything read back is opened and validated
 * here: whoever can reach Redis cannot make an instance act, list a call or relay an event.
 * A message that fails is dropped, counted (`bridge_cluster_bus_rejected_total{reason}`) and
 * logged, at most BUS_REJECT_LOG_LINES_PER_S lines a second.
 */
export class SignedBus {
  private readonly throttle = new LogThrottle(BUS_REJECT_LOG_LINES_PER_S, BUS_REJECT_LOG_BURST);

  constructor(
    private readonly store: RedisStore,
    private readonly envelope: BusEnvelope,
    private readonly observer: StoreObserver,
    private readonly log: DirectoryLog,
  ) {}

  /** `body` as stored under `key` (or published on it), signed for it. */
  seal(key: string, body: unknown): string {
    return this.envelope.seal(key, body);
  }

  /** Publishes `body` signed for `channel`; how many subscribers got it, undefined on failure. */
  publish(operation: string, channel: string, body: unknown): Promise<number | undefined> {
    return this.store.attempt(operation, () =>
      this.store.client.publish(channel, this.envelope.seal(channel, body)),
    );
  }

  /**
   * What `raw`, read from `where` (its channel or key), says, if it is signed for `where`, fresh
   * (`maxAgeMs`, or what it answers for the message: a channel may carry messages that must be
   * fresher than others) and of the shape `schema` expects; undefined otherwise, counted and
   * logged.
   */
  open<T>(
    where: string,
    raw: string | Buffer,
    schema: z.ZodType<T>,
    maxAgeMs: number | ((message: T) => number) = BUS_MESSAGE_WINDOW_MS,
  ): T | undefined {
    const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
    if (size > MAX_BUS_MESSAGE_BYTES) return this.reject('oversize', where);
    const window = typeof maxAgeMs === 'number' ? maxAgeMs : BUS_MESSAGE_WINDOW_MS;
    const opened = this.envelope.open(where, raw.toString(), window);
    if (!opened.ok) return this.reject(opened.reason, where);
    const parsed = schema.safeParse(opened.body);
    if (!parsed.success) return this.reject('invalid', where);
    if (typeof maxAgeMs === 'function' && this.envelope.age(opened.ts) > maxAgeMs(parsed.data)) {
      return this.reject('expired', where);
    }
    return parsed.data;
  }

  /** Drops a message for `reason` (also for callers that find a signed message out of place). */
  reject(reason: BusRejection, where: string): undefined {
    this.observer.busRejected(reason);
    // `where` may hold a CallSid that came from Redis: only the characters of our own names.
    const line = this.throttle.line(
      `cluster bus: dropped a message on ${where.replace(/[^A-Za-z0-9:._-]/g, '?').slice(0, 120)} (${reason})`,
    );
    if (line) this.log.warn(line);
    return undefined;
  }
}
