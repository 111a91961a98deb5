import type { EventEmitter2 } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import {
  CallDirectory,
  type Admission,
  type CallRecordEntry,
  type ControlCommand,
  type ControlResult,
  type DirectoryHealth,
  type LiveCall,
  type LocalControlHandler,
  type MemoryScope,
  type SharedCallEvent,
} from './call-directory.js';
import {
  CONTROL_TIMEOUT_MS,
  HEARTBEAT_MS,
  KEY_PREFIX,
  LEASE_TTL_MS,
  MAX_BUS_MESSAGE_BYTES,
  MAX_PENDING_CONTROL,
  MAX_REPLAY_BACKLOG,
  RECENT_CALLS_MAX,
  REDIS_COMMAND_TIMEOUT_MS,
  REDIS_CONNECT_TIMEOUT_MS,
  REDIS_RETRY_MAX_MS,
} from './cluster.constants.js';
import { MemoryCallDirectory } from './memory-call-directory.js';
import { ADMIT_LEASE, COUNT_LEASES, LIST_LIVE, RENEW_LEASE } from './redis-scripts.js';
import { redactRedisUrl } from './redis-url.js';

/** What the directory reports to metrics about the store. */
export interface StoreObserver {
  /** Redis reachable (true) or not (false), on every change. */
  storeState(up: boolean): void;
  /** A command failed (the call went on without it). */
  storeError(operation: string): void;
}

export interface DirectoryLog {
  log(message: string): void;
  warn(message: string): void;
}

export interface RedisDirectoryOptions {
  url: string;
  instanceId: string;
  clusterMaxCalls?: number;
  events: EventEmitter2;
  observer: StoreObserver;
  log: DirectoryLog;
  /** Overrides for tests (a shorter lease); production uses the named constants. */
  leaseTtlMs?: number;
  heartbeatMs?: number;
  controlTimeoutMs?: number;
}

/** Redis could not be reached at start-up: the one line main.ts prints before exiting. */
export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

/**
 * Start-up check of REDIS_URL (main.ts runs it before building the app, so an unreachable Redis
 * gives one line, not a Nest stack trace): connect once, PING, quit.
 */
export async function probeRedis(url: string): Promise<void> {
  let lastError: Error | undefined;
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  client.on('error', (error: Error) => (lastError = error));
  try {
    await withTimeout(
      client.connect().then(() => client.ping()),
      REDIS_CONNECT_TIMEOUT_MS,
    );
  } catch (error) {
    throw unavailable(url, lastError ?? error);
  } finally {
    client.disconnect();
  }
}

function unavailable(url: string, error: unknown): RedisUnavailableError {
  const redacted = redactRedisUrl(url);
  const reason = (error instanceof Error ? error.message : String(error)).replaceAll(url, redacted);
  return new RedisUnavailableError(`REDIS_URL: cannot reach Redis at ${redacted} (${reason})`);
}

interface LeaseScripts {
  admitLease(leases: string, hash: string, ...args: (string | number)[]): Promise<string>;
  renewLease(leases: string, hash: string, ...args: (string | number)[]): Promise<number>;
  countLeases(leases: string): Promise<number>;
  listLive(leases: string, prefix: string, sid?: string): Promise<string[][]>;
}

/** The same script queued on a pipeline (its result comes with the pipeline's). */
interface LeasePipeline {
  renewLease(leases: string, hash: string, ...args: (string | number)[]): void;
}

type BusMessage =
  | { type: 'control'; id: string; replyTo: string; callSid: string; command: ControlCommand }
  | { type: 'reply'; id: string; result: ControlResult }
  | { type: 'event'; origin: string; event: SharedCallEvent };

const CALL_FIELDS = [
  'callSid',
  'instance',
  'from',
  'to',
  'startedAt',
  'direction',
  'streamSid',
  'profile',
  'transport',
] as const;

/**
 * Shared state in Redis (`REDIS_URL`), through `ioredis`:
 *
 * - admission: a lease per call in one sorted set (score = expiry), taken atomically against
 *   CLUSTER_MAX_CALLS by a Lua script, renewed by this instance's heartbeat, released at the end;
 *   a killed instance stops renewing, so its calls vanish and their slots free by themselves;
 * - the directory: a hash per live call, with the lease's TTL;
 * - replay memory and webhook de-duplication: `SET NX EX` keys;
 * - plans (`SET EX`, taken with `GETDEL`) and recent records (a capped list);
 * - control: a request on the owner's pub/sub channel, the answer on the asker's;
 * - events: each call's events on a channel of its own, for followers on other instances.
 *
 * Redis trouble never drops a call: every command has a short timeout and a fallback, a local
 * MemoryCallDirectory keeps this instance's calls, memory and plans, and when Redis comes back the
 * heartbeat writes the live calls again.
 */
export class RedisCallDirectory extends CallDirectory {
  readonly instanceId: string;
  private readonly local: MemoryCallDirectory;
  private readonly client: Redis;
  private readonly sub: Redis;
  private readonly scripts: LeaseScripts;
  private readonly leaseTtlMs: number;
  private readonly controlTimeoutMs: number;
  private readonly pending = new Map<string, (result: ControlResult) => void>();
  private readonly followers = new Map<string, Set<(event: SharedCallEvent) => void>>();
  private readonly backlog = new Map<string, number>();
  private heartbeat?: NodeJS.Timeout;
  private up = false;
  private downSince?: Date;
  private closing = false;
  private readonly unhook: () => void;

  private readonly keys = {
    leases: `${KEY_PREFIX}leases`,
    call: (sid: string) => `${KEY_PREFIX}call:${sid}`,
    callPrefix: `${KEY_PREFIX}call:`,
    memory: (scope: MemoryScope, key: string) => `${KEY_PREFIX}mem:${scope}:${key}`,
    plan: (sid: string) => `${KEY_PREFIX}plan:${sid}`,
    recent: `${KEY_PREFIX}recent`,
    control: (instance: string) => `${KEY_PREFIX}control:${instance}`,
    events: (sid: string) => `${KEY_PREFIX}events:${sid}`,
  };

  private constructor(private readonly options: RedisDirectoryOptions) {
    super();
    this.instanceId = options.instanceId;
    this.leaseTtlMs = options.leaseTtlMs ?? LEASE_TTL_MS;
    this.controlTimeoutMs = options.controlTimeoutMs ?? CONTROL_TIMEOUT_MS;
    this.local = new MemoryCallDirectory({
      instanceId: options.instanceId,
      events: options.events,
    });
    const common: RedisOptions = {
      lazyConnect: true,
      connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
      // Keep reconnecting, never faster than every REDIS_RETRY_MAX_MS, for as long as it takes.
      retryStrategy: (attempt) => Math.min(attempt * 200, REDIS_RETRY_MAX_MS),
    };
    this.client = new Redis(options.url, {
      ...common,
      // While Redis is away a command fails at once (the caller falls back) instead of queueing.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    });
    // The subscriber queues its (re)subscriptions until it is connected again.
    this.sub = new Redis(options.url, { ...common, maxRetriesPerRequest: null });
    this.client.defineCommand('admitLease', { numberOfKeys: 2, lua: ADMIT_LEASE });
    this.client.defineCommand('renewLease', { numberOfKeys: 2, lua: RENEW_LEASE });
    this.client.defineCommand('countLeases', { numberOfKeys: 1, lua: COUNT_LEASES });
    this.client.defineCommand('listLive', { numberOfKeys: 1, lua: LIST_LIVE });
    this.scripts = this.client as unknown as LeaseScripts;

    // ioredis emits 'error' on every failed reconnect; the state change is what we log.
    this.client.on('error', () => undefined);
    this.sub.on('error', () => undefined);
    this.client.on('ready', () => this.setUp(true));
    this.client.on('close', () => this.setUp(false));
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) =>
      this.onBusMessage(channel.toString(), message),
    );

    // Every event of this instance's calls goes to the call's channel, for followers elsewhere.
    const forward = (event: SharedCallEvent) => this.forwardEvent(event);
    const onEnded = (event: SharedCallEvent) => this.pushRecord(event);
    options.events.on('call.*', forward);
    options.events.on('call.ended', onEnded);
    this.unhook = () => {
      options.events.off('call.*', forward);
      options.events.off('call.ended', onEnded);
    };
  }

  /**
   * Connects and subscribes, or throws RedisUnavailableError with one clear line (the password in
   * the URL never printed) within REDIS_CONNECT_TIMEOUT_MS.
   */
  static async connect(options: RedisDirectoryOptions): Promise<RedisCallDirectory> {
    const directory = new RedisCallDirectory(options);
    let lastError: Error | undefined;
    const remember = (error: Error) => (lastError = error);
    directory.client.on('error', remember);
    try {
      await withTimeout(
        Promise.all([directory.client.connect(), directory.sub.connect()]),
        REDIS_CONNECT_TIMEOUT_MS,
      );
      await withTimeout(
        directory.sub.subscribe(directory.keys.control(directory.instanceId)),
        REDIS_CONNECT_TIMEOUT_MS,
      );
    } catch (error) {
      directory.closing = true;
      directory.unhook();
      directory.local.dispose();
      directory.client.disconnect();
      directory.sub.disconnect();
      throw unavailable(options.url, lastError ?? error);
    } finally {
      directory.client.off('error', remember);
    }
    directory.heartbeat = setInterval(
      () => void directory.renewAll(),
      options.heartbeatMs ?? HEARTBEAT_MS,
    );
    directory.heartbeat.unref();
    options.log.log(
      `cluster mode: instance ${directory.instanceId} on ${redactRedisUrl(options.url)}` +
        (options.clusterMaxCalls ? `, CLUSTER_MAX_CALLS=${options.clusterMaxCalls}` : ''),
    );
    return directory;
  }

  /** Stops the heartbeat and closes both connections (after the drain: no live call is left). */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    this.unhook();
    this.local.dispose();
    for (const [id, resolve] of this.pending) {
      this.pending.delete(id);
      resolve({ status: 503, body: { message: 'this instance is shutting down' } });
    }
    await Promise.allSettled([this.client.quit(), this.sub.quit()]);
    this.client.disconnect();
    this.sub.disconnect();
  }

  // ---- admission and directory ----

  async hasClusterCapacity(): Promise<boolean> {
    const max = this.options.clusterMaxCalls;
    if (max === undefined) return true;
    const count = await this.attempt('count', () => this.scripts.countLeases(this.keys.leases));
    // Redis away: the local limit is all that is checked.
    return count === undefined || count < max;
  }

  async admit(call: LiveCall): Promise<Admission> {
    const entry: LiveCall = { ...call, instance: this.instanceId };
    const local = this.local.admitNow(entry);
    if (!local.ok) return local;
    const verdict = await this.attempt('admit', () =>
      this.scripts.admitLease(
        this.keys.leases,
        this.keys.call(call.callSid),
        call.callSid,
        this.leaseTtlMs,
        this.options.clusterMaxCalls ?? 0,
        ...hashFields(entry),
      ),
    );
    if (verdict === undefined) return { ok: true, degraded: true };
    if (verdict === 'ok') return { ok: true, degraded: false };
    await this.local.release(call.callSid);
    return verdict === 'full'
      ? {
          ok: false,
          reason: `CLUSTER_MAX_CALLS (${this.options.clusterMaxCalls}) calls already live`,
        }
      : { ok: false, reason: 'a stream for this call is already live on another instance' };
  }

  async release(callSid: string): Promise<void> {
    await this.local.release(callSid);
    // If this fails the lease simply expires (LEASE_TTL_MS).
    await this.attempt('release', () =>
      this.client.multi().zrem(this.keys.leases, callSid).del(this.keys.call(callSid)).exec(),
    );
  }

  async list(): Promise<LiveCall[]> {
    const rows = await this.attempt('list', () =>
      this.scripts.listLive(this.keys.leases, this.keys.callPrefix),
    );
    if (rows === undefined) return this.local.localCalls();
    const calls = rows.map(toLiveCall).filter((call) => call !== undefined);
    // Calls of ours that Redis lost (restarted empty) show until the next heartbeat rewrites them.
    const known = new Set(calls.map((call) => call.callSid));
    for (const call of this.local.localCalls()) if (!known.has(call.callSid)) calls.push(call);
    return calls;
  }

  async get(callSid: string): Promise<LiveCall | undefined> {
    const mine = await this.local.get(callSid);
    if (mine) return mine;
    const rows = await this.attempt('get', () =>
      this.scripts.listLive(this.keys.leases, this.keys.callPrefix, callSid),
    );
    return rows?.[0] ? toLiveCall(rows[0]) : undefined;
  }

  // ---- replay memory ----

  async remember(scope: MemoryScope, key: string, ttlS: number): Promise<boolean> {
    const set = await this.attempt('remember', () =>
      this.client.set(this.keys.memory(scope, key), '1', 'EX', ttlS, 'NX'),
    );
    if (set === undefined) {
      // Redis away: this process's memory decides, and Redis learns it once it is back.
      const first = this.local.rememberNow(scope, key, ttlS);
      if (first) this.queueBacklog(this.keys.memory(scope, key), ttlS);
      return first;
    }
    // Redis decides (another instance may have forgotten the key since); the copy here serves
    // the next outage.
    this.local.store(scope, key, ttlS);
    return set === 'OK';
  }

  async recalls(scope: MemoryScope, key: string): Promise<boolean> {
    const found = await this.attempt('recall', () =>
      this.client.exists(this.keys.memory(scope, key)),
    );
    return found === undefined ? this.local.recallsNow(scope, key) : found === 1;
  }

  async forget(scope: MemoryScope, key: string): Promise<void> {
    await this.local.forget(scope, key);
    this.backlog.delete(this.keys.memory(scope, key));
    await this.attempt('forget', () => this.client.del(this.keys.memory(scope, key)));
  }

  // ---- plans ----

  async setPlan(callSid: string, plan: unknown, ttlS: number): Promise<void> {
    const stored = await this.attempt('plan', () =>
      this.client.set(this.keys.plan(callSid), JSON.stringify(plan), 'EX', ttlS),
    );
    // Redis away: keep it here; the call's stream may well come back to this instance.
    if (stored === undefined) await this.local.setPlan(callSid, plan, ttlS);
  }

  async getPlan(callSid: string): Promise<unknown> {
    const mine = this.local.planNow(callSid);
    if (mine !== undefined) return mine;
    const json = await this.attempt('plan', () => this.client.get(this.keys.plan(callSid)));
    return json ? parseJson(json) : undefined;
  }

  async takePlan(callSid: string): Promise<unknown> {
    const mine = await this.local.takePlan(callSid);
    const json = await this.attempt('plan', () => this.client.getdel(this.keys.plan(callSid)));
    return mine ?? (json ? parseJson(json) : undefined);
  }

  // ---- recent records ----

  async recentRecords(limit = RECENT_CALLS_MAX): Promise<CallRecordEntry[]> {
    const count = Math.max(0, Math.min(limit, RECENT_CALLS_MAX));
    if (count === 0) return [];
    const rows = await this.attempt('recent', () =>
      this.client.lrange(this.keys.recent, 0, count - 1),
    );
    if (rows === undefined) return this.local.recentRecords(count);
    return rows.map(parseJson).filter(isRecord);
  }

  private pushRecord(event: SharedCallEvent): void {
    const record: CallRecordEntry = { ...event, instance: this.instanceId };
    void this.attempt('recent', () =>
      this.client
        .multi()
        .lpush(this.keys.recent, JSON.stringify(record))
        .ltrim(this.keys.recent, 0, RECENT_CALLS_MAX - 1)
        .exec(),
    );
  }

  // ---- control ----

  onControl(handler: LocalControlHandler): void {
    this.local.onControl(handler);
  }

  async control(callSid: string, command: ControlCommand): Promise<ControlResult> {
    if (this.local.isLocal(callSid)) return this.local.controlLocal(callSid, command);
    const call = await this.get(callSid);
    if (!call) {
      return this.up
        ? { status: 404, body: { message: `no live call ${callSid}` } }
        : { status: 503, body: { message: `no live call ${callSid} here, and Redis is down` } };
    }
    if (this.pending.size >= MAX_PENDING_CONTROL) {
      return { status: 503, body: { message: 'too many control requests in flight' } };
    }
    const id = randomUUID();
    const answer = new Promise<ControlResult>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({
          status: 504,
          body: { message: `instance ${call.instance} did not answer in time` },
        });
      }, this.controlTimeoutMs);
      this.pending.set(id, (result) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(result);
      });
    });
    const request: BusMessage = {
      type: 'control',
      id,
      replyTo: this.instanceId,
      callSid,
      command,
    };
    const receivers = await this.attempt('control', () =>
      this.client.publish(this.keys.control(call.instance), JSON.stringify(request)),
    );
    if (!receivers) {
      this.pending.get(id)?.({
        status: 503,
        body: { message: `instance ${call.instance} (owner of ${callSid}) cannot be reached` },
      });
    }
    return answer;
  }

  // ---- events ----

  follow(callSid: string, listener: (event: SharedCallEvent) => void): () => void {
    const stopLocal = this.local.follow(callSid, listener);
    const channel = this.keys.events(callSid);
    let listeners = this.followers.get(channel);
    if (!listeners) {
      this.followers.set(channel, (listeners = new Set()));
      this.sub.subscribe(channel).catch(() => this.options.observer.storeError('subscribe'));
    }
    listeners.add(listener);
    return () => {
      stopLocal();
      const current = this.followers.get(channel);
      if (!current?.delete(listener) || current.size > 0) return;
      this.followers.delete(channel);
      this.sub.unsubscribe(channel).catch(() => undefined);
    };
  }

  health(): DirectoryHealth {
    return {
      mode: 'redis',
      instance: this.instanceId,
      store: this.up ? 'up' : 'down',
      ...(this.downSince ? { downSince: this.downSince.toISOString() } : {}),
    };
  }

  // ---- internals ----

  private forwardEvent(event: SharedCallEvent): void {
    if (!this.up || typeof event.callSid !== 'string') return;
    const message: BusMessage = { type: 'event', origin: this.instanceId, event };
    void this.attempt('publish', () =>
      this.client.publish(this.keys.events(event.callSid), JSON.stringify(message)),
    );
  }

  private onBusMessage(channel: string, raw: Buffer): void {
    if (raw.length > MAX_BUS_MESSAGE_BYTES) return this.options.observer.storeError('bus-size');
    const message = parseJson(raw.toString('utf8')) as BusMessage | undefined;
    if (!message || typeof message !== 'object')
      return this.options.observer.storeError('bus-parse');
    switch (message.type) {
      case 'control':
        if (channel === this.keys.control(this.instanceId)) void this.answerControl(message);
        return;
      case 'reply':
        if (channel === this.keys.control(this.instanceId))
          this.pending.get(message.id)?.(message.result);
        return;
      case 'event':
        if (message.origin === this.instanceId) return; // our own: followers here had it already
        for (const listener of this.followers.get(channel) ?? []) listener(message.event);
        return;
    }
  }

  private async answerControl(request: Extract<BusMessage, { type: 'control' }>): Promise<void> {
    const result = this.local.isLocal(request.callSid)
      ? await this.local.controlLocal(request.callSid, request.command)
      : { status: 404, body: { message: `no live call ${request.callSid}` } };
    const reply: BusMessage = { type: 'reply', id: request.id, result };
    await this.attempt('control', () =>
      this.client.publish(this.keys.control(request.replyTo), JSON.stringify(reply)),
    );
  }

  /**
   * The heartbeat: renews (or writes again) the lease and entry of every call of ours, and writes
   * the replay memory kept while Redis was away; one pipeline, one round trip.
   */
  private async renewAll(): Promise<void> {
    if (!this.up || this.closing) return;
    const calls = this.local.localCalls();
    if (calls.length === 0 && this.backlog.size === 0) return;
    const pipeline = this.client.pipeline();
    const backlog = [...this.backlog];
    this.backlog.clear();
    for (const [key, ttlS] of backlog) pipeline.set(key, '1', 'EX', ttlS, 'NX');
    for (const call of calls) {
      (pipeline as unknown as LeasePipeline).renewLease(
        this.keys.leases,
        this.keys.call(call.callSid),
        call.callSid,
        this.leaseTtlMs,
        ...hashFields(call),
      );
    }
    const done = await this.attempt('heartbeat', () => pipeline.exec());
    // Not written: keep the memory for the next beat (the leases are rewritten anyway).
    if (done === undefined) for (const [key, ttlS] of backlog) this.queueBacklog(key, ttlS);
  }

  private queueBacklog(key: string, ttlS: number): void {
    if (this.backlog.size >= MAX_REPLAY_BACKLOG) {
      const oldest = this.backlog.keys().next().value;
      if (oldest !== undefined) this.backlog.delete(oldest);
    }
    this.backlog.set(key, ttlS);
  }

  private setUp(up: boolean): void {
    if (this.closing || up === this.up) return;
    this.up = up;
    this.options.observer.storeState(up);
    if (up) {
      const outage = this.downSince
        ? ` after ${Math.round((Date.now() - this.downSince.getTime()) / 1000)} s`
        : '';
      this.downSince = undefined;
      if (outage) {
        this.options.log.log(
          `Redis is back${outage}: re-registering ${this.local.localCalls().length} live calls`,
        );
      }
      void this.renewAll();
    } else {
      this.downSince = new Date();
      this.options.log.warn(
        `Redis connection lost (${redactRedisUrl(this.options.url)}): live calls go on; new calls are admitted under MAX_CONCURRENT_CALLS only until it is back`,
      );
    }
  }

  /** Runs a Redis command; on failure counts it and returns undefined (the caller falls back). */
  private async attempt<T>(operation: string, run: () => Promise<T>): Promise<T | undefined> {
    if (!this.up) return undefined;
    try {
      return await run();
    } catch {
      this.options.observer.storeError(operation);
      return undefined;
    }
  }
}

function hashFields(call: LiveCall): string[] {
  const fields: string[] = [];
  for (const name of CALL_FIELDS) {
    const value = call[name];
    if (value !== undefined) fields.push(name, value);
  }
  return fields;
}

function toLiveCall(flat: string[]): LiveCall | undefined {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  const { callSid, instance, startedAt, direction } = fields;
  if (!callSid || !instance || !startedAt) return undefined;
  return {
    callSid,
    instance,
    startedAt,
    direction: direction === 'outbound' ? 'outbound' : 'inbound',
    ...(fields.from ? { from: fields.from } : {}),
    ...(fields.to ? { to: fields.to } : {}),
    ...(fields.streamSid ? { streamSid: fields.streamSid } : {}),
    ...(fields.profile ? { profile: fields.profile } : {}),
    ...(fields.transport ? { transport: fields.transport === 'sip' ? 'sip' : 'media' } : {}),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is CallRecordEntry {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as CallRecordEntry).callSid === 'string'
  );
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
