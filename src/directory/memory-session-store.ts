import { randomBytes } from 'node:crypto';
import { keyedHash, SessionStore } from './session-store.js';

/**
 * Console sessions in this process (no REDIS_URL): they end with it. The hash key is random per
 * process, since nothing outside the process ever needs to compute it.
 */
export class MemorySessionStore extends SessionStore {
  readonly #hashKey = randomBytes(32);
  /** key -> expiry (ms); Map order is creation order, and with one lifetime, expiry order. */
  private readonly sessions = new Map<string, number>();
  private readonly listeners: Array<(key: string) => void> = [];

  keyOf(token: string): string {
    return keyedHash(this.#hashKey, token);
  }

  add(key: string, expiresAt: number, maxSessions: number, now = Date.now()): Promise<boolean> {
    this.prune(now);
    const evicted: string[] = [];
    for (const oldest of this.sessions.keys()) {
      if (this.sessions.size - evicted.length < maxSessions) break;
      evicted.push(oldest);
    }
    for (const old of evicted) this.sessions.delete(old);
    this.sessions.set(key, expiresAt);
    this.report(evicted);
    return Promise.resolve(true);
  }

  expiries(keys: string[], now = Date.now()): Promise<Array<number | undefined>> {
    return Promise.resolve(
      keys.map((key) => {
        const expiresAt = this.sessions.get(key);
        if (expiresAt === undefined || expiresAt > now) return expiresAt;
        this.sessions.delete(key);
        return undefined;
      }),
    );
  }

  remove(keys: string[]): Promise<void> {
    this.report(keys.filter((key) => this.sessions.delete(key)));
    return Promise.resolve();
  }

  onEnded(listener: (key: string) => void): void {
    this.listeners.push(listener);
  }

  size(now = Date.now()): Promise<number> {
    this.prune(now);
    return Promise.resolve(this.sessions.size);
  }

  private report(keys: string[]): void {
    for (const key of keys) for (const listener of this.listeners) listener(key);
  }

  private prune(now: number): void {
    for (const [key, expiresAt] of this.sessions) {
      if (expiresAt > now) break;
      this.sessions.delete(key);
    }
  }
}
