import { Injectable } from '@nestjs/common';
import {
  LOGIN_MAX_FAILURES,
  LOGIN_MAX_FAILURES_TOTAL,
  LOGIN_MAX_SUCCESSES,
  LOGIN_TRACKED_ADDRESSES,
  LOGIN_WINDOW_S,
} from './console.constants.js';

const ALL_ADDRESSES = '*';

/** Events per key in a fixed window from the key's first event; at most `maxKeys` keys. */
class WindowCounter {
  /** key -> count and window end; Map order is insertion order, so the oldest key first. */
  private readonly windows = new Map<string, { count: number; endsAt: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly maxKeys: number,
  ) {}

  get size(): number {
    return this.windows.size;
  }

  /** Seconds until `key` is under its bound again, or 0 when it is under it now. */
  blockedFor(key: string, now: number): number {
    const entry = this.windows.get(key);
    if (!entry || entry.endsAt <= now || entry.count < this.max) return 0;
    return Math.ceil((entry.endsAt - now) / 1000);
  }

  add(key: string, now: number): void {
    const entry = this.windows.get(key);
    if (entry && entry.endsAt > now) {
      entry.count++;
      return;
    }
    this.windows.delete(key);
    // Forgetting the oldest bounds the memory; a key forgotten early only gets its bound back.
    while (this.windows.size >= this.maxKeys)
      this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(key, { count: 1, endsAt: now + this.windowMs });
  }
}

/**
 * The console login's two throttles, per client address (clientAddress: the socket's peer, or
 * the rightmost X-Forwarded-For entry behind a trusted proxy). Failures and correct logins are
 * counted apart, so failures never lock out the right token, from any address: a wrong token
 * is answered 429 once its address has LOGIN_MAX_FAILURES in the window (or all addresses
 * together LOGIN_MAX_FAILURES_TOTAL), and the right one is
 * still checked and accepted. The right token has its own, generous bound, so a script looping
 * on the login cannot churn through the MAX_SESSIONS sessions every operator shares.
 */
@Injectable()
export class LoginThrottle {
  private readonly failures = new WindowCounter(
    LOGIN_MAX_FAILURES,
    LOGIN_WINDOW_S * 1000,
    LOGIN_TRACKED_ADDRESSES,
  );
  /** Every address's failures under one key: rotating addresses cannot get past it. */
  private readonly allFailures = new WindowCounter(
    LOGIN_MAX_FAILURES_TOTAL,
    LOGIN_WINDOW_S * 1000,
    1,
  );
  private readonly successes = new WindowCounter(
    LOGIN_MAX_SUCCESSES,
    LOGIN_WINDOW_S * 1000,
    LOGIN_TRACKED_ADDRESSES,
  );

  /** Seconds until this address may fail again without a 429 (0: now). */
  failureBlockedFor(address: string, now = Date.now()): number {
    return Math.max(
      this.failures.blockedFor(address, now),
      this.allFailures.blockedFor(ALL_ADDRESSES, now),
    );
  }

  failed(address: string, now = Date.now()): void {
    this.failures.add(address, now);
    this.allFailures.add(ALL_ADDRESSES, now);
  }

  /** Seconds until this address may log in again with the right token (0: now). */
  successBlockedFor(address: string, now = Date.now()): number {
    return this.successes.blockedFor(address, now);
  }

  succeeded(address: string, now = Date.now()): void {
    this.successes.add(address, now);
  }

  /** Addresses remembered (each bound holds at most LOGIN_TRACKED_ADDRESSES). */
  get tracked(): { failures: number; successes: number } {
    return { failures: this.failures.size, successes: this.successes.size };
  }
}
