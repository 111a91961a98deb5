import type { ChainableCommander } from 'ioredis';
import type { Admission, CallListing, LiveCall } from './call-directory.js';
import { liveCallSchema } from './bus-messages.js';
import type { MemoryCallDirectory } from './memory-call-directory.js';
import { redisKeys as keys } from './redis-keys.js';
import { ADMIT_LEASE, COUNT_LEASES, LIST_LIVE, RENEW_LEASE } from './redis-scripts.js';
import type { RedisSipLines } from './redis-sip-lines.js';
import type { RedisStore } from './redis-store.js';
import type { SignedBus } from './signed-bus.js';

interface LeaseScripts {
  admitLease(leases: string, hash: string, ...args: (string | number)[]): Promise<string>;
  countLeases(leases: string): Promise<number>;
  listLive(leases: string, prefix: string, sid?: string): Promise<string[][]>;
}

/** The same script queued on a pipeline (its result comes with the pipeline's). */
interface LeasePipeline {
  renewLease(leases: string, hash: string, ...args: (string | number)[]): void;
}

/** The one field of a live call's hash: the call, sealed for its key. */
const RECORD_FIELD = 'record';

/**
 * Admission and the live-call directory: a lease per call in one sorted set (score = expiry),
 * taken atomically against CLUSTER_MAX_CALLS by a Lua script and renewed by the heartbeat, and a
 * hash per call holding it, signed. The heartbeat signs each entry again (every HEARTBEAT_MS,
 * well within BUS_MESSAGE_WINDOW_MS), so an entry read back must be both signed and fresh: one
 * written into Redis by anyone else is never listed.
 */
export class RedisLeases {
  private readonly scripts: LeaseScripts;

  constructor(
    private readonly store: RedisStore,
    private readonly bus: SignedBus,
    private readonly local: MemoryCallDirectory,
    private readonly instanceId: string,
    private readonly leaseTtlMs: number,
    private readonly clusterMaxCalls: number | undefined,
    private readonly lines: RedisSipLines,
  ) {
    const client = store.client;
    client.defineCommand('admitLease', { numberOfKeys: 2, lua: ADMIT_LEASE });
    client.defineCommand('renewLease', { numberOfKeys: 2, lua: RENEW_LEASE });
    client.defineCommand('countLeases', { numberOfKeys: 1, lua: COUNT_LEASES });
    client.defineCommand('listLive', { numberOfKeys: 1, lua: LIST_LIVE });
    this.scripts = client as unknown as LeaseScripts;
  }

  async hasClusterCapacity(): Promise<boolean> {
    const max = this.clusterMaxCalls;
    if (max === undefined) return true;
    const count = await this.store.attempt('count', () => this.scripts.countLeases(keys.leases));
    // Redis away: the local limit is all that is checked.
    return count === undefined || count < max;
  }

  async admit(call: LiveCall): Promise<Admission> {
    const entry: LiveCall = { ...call, instance: this.instanceId };
    const local = this.local.admitNow(entry);
    if (!local.ok) return local;
    const verdict = await this.store.attempt('admit', () =>
      this.scripts.admitLease(
        keys.leases,
        keys.call(call.callSid),
        call.callSid,
        this.leaseTtlMs,
        this.clusterMaxCalls ?? 0,
        ...this.hashFields(entry),
      ),
    );
    if (verdict === undefined) return { ok: true, degraded: true };
    if (verdict === 'ok') return { ok: true, degraded: false };
    await this.local.release(call.callSid);
    return verdict === 'full'
      ? {
          ok: false,
          reason: `CLUSTER_MAX_CALLS (${this.clusterMaxCalls}) calls already live`,
          why: 'full',
        }
      : {
          ok: false,
          reason: 'a stream for this call is already live on another instance',
          why: 'live',
        };
  }

  async release(callSid: string): Promise<void> {
    await this.local.release(callSid);
    // A SIP call's line stays until OpenAI confirms it down (RedisSipLines.release).
    this.lines.forgetLocal(callSid);
    // If this fails the lease simply expires (LEASE_TTL_MS).
    await this.store.attempt('release', () =>
      this.store.client.multi().zrem(keys.leases, callSid).del(keys.call(callSid)).exec(),
    );
  }

  async listing(): Promise<CallListing> {
    const rows = await this.store.attempt('list', () =>
      this.scripts.listLive(keys.leases, keys.callPrefix),
    );
    if (rows === undefined) return { calls: this.local.localCalls(), partial: true };
    const calls = rows.map((row) => this.toLiveCall(row)).filter((call) => call !== undefined);
    // Calls of ours that Redis lost (restarted empty) show until the next heartbeat rewrites them.
    const known = new Set(calls.map((call) => call.callSid));
    for (const call of this.local.localCalls()) if (!known.has(call.callSid)) calls.push(call);
    return { calls, partial: false };
  }

  async get(callSid: string): Promise<LiveCall | undefined> {
    const found = await this.lookup(callSid);
    return found === 'failed' ? undefined : found;
  }

  /**
   * The live call, undefined when Redis says there is none, or `failed` when Redis could not
   * be asked (down, or a command timed out while the connection still looked up): a hung
   * Redis must not read as "no such call".
   */
  async lookup(callSid: string): Promise<LiveCall | undefined | 'failed'> {
    const mine = await this.local.get(callSid);
    if (mine) return mine;
    const rows = await this.store.attempt('get', () =>
      this.scripts.listLive(keys.leases, keys.callPrefix, callSid),
    );
    if (rows === undefined) return 'failed';
    return rows[0] ? this.toLiveCall(rows[0]) : undefined;
  }

  /** The heartbeat's part: renew (or write again, signed afresh) every call of ours. */
  queueRenewals(pipeline: ChainableCommander): void {
    for (const call of this.local.localCalls()) {
      (pipeline as unknown as LeasePipeline).renewLease(
        keys.leases,
        keys.call(call.callSid),
        call.callSid,
        this.leaseTtlMs,
        ...this.hashFields(call),
      );
      this.lines.queueHold(pipeline, call);
    }
  }

  private hashFields(call: LiveCall): string[] {
    return [RECORD_FIELD, this.bus.seal(keys.call(call.callSid), call)];
  }

  /** A row of LIST_LIVE (the sid, then the hash's fields and values), if it is a signed call. */
  private toLiveCall([sid, ...flat]: string[]): LiveCall | undefined {
    const key = keys.call(sid);
    const at = flat.indexOf(RECORD_FIELD);
    if (at < 0 || at % 2 !== 0 || flat.length !== 2) return this.bus.reject('malformed', key);
    const call = this.bus.open(key, flat[at + 1], liveCallSchema);
    if (call && call.callSid !== sid) return this.bus.reject('invalid', key);
    return call;
  }
}
