import type { MemoryScope } from './call-directory.js';
import { MAX_REMEMBERED } from './cluster.constants.js';

export interface TtlMemoryOptions {
  /** Keys kept per scope; beyond it the oldest go first (default MAX_REMEMBERED). */
  maxEntries?: Partial<Record<MemoryScope, number>>;
  /** The clock (tests move it). */
  now?: () => number;
}

/**
 * "Seen once, for a while", in this process: the one memory behind every "already seen" of the
 * bridge (stream replays, SIP webhook ids), kept by MemoryCallDirectory and, as the copy that
 * serves a Redis outage, by the Redis directory. Bounded per scope.
 */
export class TtlMemory {
  private readonly scopes = new Map<MemoryScope, Map<string, number>>();
  private readonly maxEntries: Record<MemoryScope, number>;
  private readonly now: () => number;

  constructor(options: TtlMemoryOptions = {}) {
    this.maxEntries = { ...MAX_REMEMBERED, ...options.maxEntries };
    this.now = options.now ?? Date.now;
  }

  /** Remembers `key` for `ttlS` seconds; true if it was not remembered yet (the caller is first). */
  remember(scope: MemoryScope, key: string, ttlS: number): boolean {
    if (this.recalls(scope, key)) return false;
    this.store(scope, key, ttlS);
    return true;
  }

  /** Remembers `key` whether or not it was remembered already (a copy of the shared store's). */
  store(scope: MemoryScope, key: string, ttlS: number): void {
    const keys = this.scope(scope);
    keys.delete(key);
    keys.set(key, this.now() + ttlS * 1000);
    const max = this.maxEntries[scope];
    for (const oldest of keys.keys()) {
      if (keys.size <= max) break;
      keys.delete(oldest);
    }
  }

  recalls(scope: MemoryScope, key: string): boolean {
    const expiresAt = this.scope(scope).get(key);
    return expiresAt !== undefined && expiresAt > this.now();
  }

  forget(scope: MemoryScope, key: string): void {
    this.scopes.get(scope)?.delete(key);
  }

  /** The live keys of `scope` (expired ones are dropped first). */
  size(scope: MemoryScope): number {
    return this.scope(scope).size;
  }

  private scope(scope: MemoryScope): Map<string, number> {
    let keys = this.scopes.get(scope);
    if (!keys) this.scopes.set(scope, (keys = new Map<string, number>()));
    // Entries of one scope share a TTL, so insertion order is expiry order: drop from the front.
    const now = this.now();
    for (const [key, expiresAt] of keys) {
      if (expiresAt > now) break;
      keys.delete(key);
    }
    return keys;
  }
}
