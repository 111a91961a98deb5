import type { ChainableCommander } from 'ioredis';
import type { CallRecordEntry, MemoryScope, SharedCallEvent } from './call-directory.js';
import { callRecordSchema, storedPlanSchema } from './bus-messages.js';
import { BUS_MESSAGE_WINDOW_MS } from './bus-envelope.js';
import { MAX_REPLAY_BACKLOG, RECENT_CALLS_MAX } from './cluster.constants.js';
import type { MemoryCallDirectory } from './memory-call-directory.js';
import { redisKeys as keys } from './redis-keys.js';
import type { RedisStore } from './redis-store.js';
import type { SignedBus } from './signed-bus.js';

/** Recent records are history, not messages: no freshness, only their signature and shape. */
const RECORD_MAX_AGE_MS = Number.POSITIVE_INFINITY;

/**
 * What the cluster remembers beyond live calls: replay memory and webhook de-duplication
 * (`SET NX EX` flags), outbound plans (`SET EX`, taken with `GETDEL`) and the records of
 * finished calls (a capped list). Plans and records are signed for their key; a plan is good
 * until its own (signed) expiry, a record for as long as the list keeps it.
 */
export class RedisRecords {
  /** Replay-memory writes made while Redis was away, written by the next heartbeat. */
  private readonly backlog = new Map<string, number>();

  constructor(
    private readonly store: RedisStore,
    private readonly bus: SignedBus,
    private readonly local: MemoryCallDirectory,
    private readonly instanceId: string,
  ) {}

  // ---- replay memory ----

  async remember(scope: MemoryScope, key: string, ttlS: number): Promise<boolean> {
    const set = await this.store.attempt('remember', () =>
      this.store.client.set(keys.memory(scope, key), '1', 'EX', ttlS, 'NX'),
    );
    if (set === undefined) {
      // Redis away: this process's memory decides, and Redis learns it once it is back.
      const first = this.local.memory.remember(scope, key, ttlS);
      if (first) this.addBacklog(keys.memory(scope, key), ttlS);
      return first;
    }
    // Redis decides (another instance may have forgotten the key since); the copy here serves
    // the next outage.
    this.local.memory.store(scope, key, ttlS);
    return set === 'OK';
  }

  async recalls(scope: MemoryScope, key: string): Promise<boolean> {
    const found = await this.store.attempt('recall', () =>
      this.store.client.exists(keys.memory(scope, key)),
    );
    return found === undefined ? this.local.memory.recalls(scope, key) : found === 1;
  }

  async forget(scope: MemoryScope, key: string): Promise<void> {
    this.local.memory.forget(scope, key);
    this.backlog.delete(keys.memory(scope, key));
    await this.store.attempt('forget', () => this.store.client.del(keys.memory(scope, key)));
  }

  get hasBacklog(): boolean {
    return this.backlog.size > 0;
  }

  /** The heartbeat's part: the memory kept while Redis was away; returns what it queued. */
  queueBacklog(pipeline: ChainableCommander): [string, number][] {
    const backlog = [...this.backlog];
    this.backlog.clear();
    for (const [key, ttlS] of backlog) pipeline.set(key, '1', 'EX', ttlS, 'NX');
    return backlog;
  }

  /** Not written: kept for the next beat. */
  requeue(backlog: [string, number][]): void {
    for (const [key, ttlS] of backlog) this.addBacklog(key, ttlS);
  }

  private addBacklog(key: string, ttlS: number): void {
    if (this.backlog.size >= MAX_REPLAY_BACKLOG) {
      const oldest = this.backlog.keys().next().value;
      if (oldest !== undefined) this.backlog.delete(oldest);
    }
    this.backlog.set(key, ttlS);
  }

  // ---- plans ----

  async setPlan(callSid: string, plan: unknown, ttlS: number): Promise<void> {
    const key = keys.plan(callSid);
    const sealed = this.bus.seal(key, { plan, expiresAt: Date.now() + ttlS * 1000 });
    const stored = await this.store.attempt('plan', () =>
      this.store.client.set(key, sealed, 'EX', ttlS),
    );
    // Redis away: keep it here; the call's stream may well come back to this instance.
    if (stored === undefined) await this.local.setPlan(callSid, plan, ttlS);
  }

  async getPlan(callSid: string): Promise<unknown> {
    const mine = this.local.planNow(callSid);
    if (mine !== undefined) return mine;
    const text = await this.store.attempt('plan', () => this.store.client.get(keys.plan(callSid)));
    return text ? this.openPlan(callSid, text) : undefined;
  }

  async takePlan(callSid: string): Promise<unknown> {
    const mine = await this.local.takePlan(callSid);
    const text = await this.store.attempt('plan', () =>
      this.store.client.getdel(keys.plan(callSid)),
    );
    return mine ?? (text ? this.openPlan(callSid, text) : undefined);
  }

  private openPlan(callSid: string, text: string): unknown {
    const key = keys.plan(callSid);
    const stored = this.bus.open(key, text, storedPlanSchema, RECORD_MAX_AGE_MS);
    if (!stored) return undefined;
    // Signed with its expiry: a plan copied back after it expired is refused.
    if (stored.expiresAt + BUS_MESSAGE_WINDOW_MS < Date.now()) {
      return this.bus.reject('expired', key);
    }
    return stored.plan;
  }

  // ---- recent records ----

  async recentRecords(limit = RECENT_CALLS_MAX): Promise<CallRecordEntry[]> {
    const count = Math.max(0, Math.min(limit, RECENT_CALLS_MAX));
    if (count === 0) return [];
    const rows = await this.store.attempt('recent', () =>
      this.store.client.lrange(keys.recent, 0, count - 1),
    );
    if (rows === undefined) return this.local.recentRecords(count);
    return rows
      .map((row) => this.bus.open(keys.recent, row, callRecordSchema, RECORD_MAX_AGE_MS))
      .filter((record) => record !== undefined);
  }

  /** Takes an erased call's records out of the list (and this instance's own copy). */
  async forgetRecord(callSid: string): Promise<void> {
    await this.local.forgetRecord(callSid);
    const rows = await this.store.attempt('recent', () =>
      this.store.client.lrange(keys.recent, 0, -1),
    );
    for (const row of rows ?? []) {
      const record = this.bus.open(keys.recent, row, callRecordSchema, RECORD_MAX_AGE_MS);
      if (record?.callSid !== callSid) continue;
      await this.store.attempt('recent', () => this.store.client.lrem(keys.recent, 0, row));
    }
  }

  pushRecord(event: SharedCallEvent): void {
    const record: CallRecordEntry = { ...event, instance: this.instanceId };
    const sealed = this.bus.seal(keys.recent, record);
    void this.store.attempt('recent', () =>
      this.store.client
        .multi()
        .lpush(keys.recent, sealed)
        .ltrim(keys.recent, 0, RECENT_CALLS_MAX - 1)
        .exec(),
    );
  }
}
