import type { EventEmitter2 } from '@nestjs/event-emitter';
import type { Secret } from '../config/secret.js';
import {
  CallDirectory,
  type Admission,
  type CallListing,
  type CallRecordEntry,
  type ControlCommand,
  type ControlResult,
  type DirectoryHealth,
  type LiveCall,
  type LocalControlHandler,
  type MemoryScope,
  type OrphanedLineHandler,
  type SharedCallEvent,
} from './call-directory.js';
import { BusEnvelope } from './bus-envelope.js';
import { RedisChannels, type ClusterChannels } from './cluster-channels.js';
import {
  CONTROL_TIMEOUT_MS,
  HEARTBEAT_MS,
  LEASE_TTL_MS,
  MAX_REMEMBERED_STREAMS_LOCALLY,
  SUBSCRIBER_SILENT_MS,
} from './cluster.constants.js';
import { MemoryCallDirectory } from './memory-call-directory.js';
import { RedisControl } from './redis-control.js';
import { RedisEvents } from './redis-events.js';
import { redisKeys } from './redis-keys.js';
import { RedisLeases } from './redis-leases.js';
import { RedisRecords } from './redis-records.js';
import { RedisSipLines } from './redis-sip-lines.js';
import { RedisStore, type DirectoryLog, type StoreObserver } from './redis-store.js';
import { redactRedisUrl } from './redis-url.js';
import { RedisSecretCheck } from './redis-secret-check.js';
import { RedisSessionStore } from './redis-sessions.js';
import { SignedBus } from './signed-bus.js';
import { SubscriberWatch } from './subscriber-watch.js';

export { probeRedis, RedisUnavailableError } from './redis-store.js';
export type { DirectoryLog, StoreObserver } from './redis-store.js';

export interface RedisDirectoryOptions {
  url: string;
  /** CLUSTER_SECRET: signs every message and record this instance writes to Redis. */
  secret: Secret;
  instanceId: string;
  clusterMaxCalls?: number;
  events: EventEmitter2;
  observer: StoreObserver;
  log: DirectoryLog;
  /** Overrides for tests (a shorter lease); production uses the named constants. */
  leaseTtlMs?: number;
  heartbeatMs?: number;
  controlTimeoutMs?: number;
  subscriberSilentMs?: number;
  sipLineGraceMs?: number;
}

/**
 * Shared state in Redis (`REDIS_URL`, `ioredis`), a part per concern: RedisStore (connections,
 * health), RedisLeases (admission, live calls), RedisSipLines, RedisRecords (replay memory,
 * plans, records), RedisControl, RedisEvents, RedisSessionStore, RedisSecretCheck and
 * SubscriberWatch. What another instance reads is signed and validated (SignedBus). Redis
 * trouble never drops a call: every command has a timeout and a fallback (a local
 * MemoryCallDirectory), and when Redis comes back the heartbeat writes the live calls again.
 */
export class RedisCallDirectory extends CallDirectory {
  readonly instanceId: string;
  private readonly local: MemoryCallDirectory;
  private readonly store: RedisStore;
  private readonly leases: RedisLeases;
  private readonly lines: RedisSipLines;
  private readonly records: RedisRecords;
  private readonly controls: RedisControl;
  private readonly bus: RedisEvents;
  private readonly relay: RedisChannels;
  private readonly sessions: RedisSessionStore;
  private readonly subscriber: SubscriberWatch;
  private readonly secretCheck: RedisSecretCheck;
  private heartbeat?: NodeJS.Timeout;
  private readonly unhook: () => void;

  private constructor(private readonly options: RedisDirectoryOptions) {
    super();
    const { instanceId, observer, log } = options;
    this.instanceId = instanceId;
    const memory = { maxEntries: { 'stream-started': MAX_REMEMBERED_STREAMS_LOCALLY } };
    this.local = new MemoryCallDirectory({ instanceId, events: options.events, memory });
    this.store = new RedisStore(options.url, observer, log, (outage) => this.onBack(outage));
    const envelope = new BusEnvelope(options.secret);
    const signed = new SignedBus(this.store, envelope, observer, log);
    this.secretCheck = new RedisSecretCheck(this.store, envelope.fingerprint(), log);
    const leaseTtlMs = options.leaseTtlMs ?? LEASE_TTL_MS;
    this.lines = new RedisSipLines(
      this.store,
      signed,
      leaseTtlMs,
      instanceId,
      (callSid) => this.local.isLocal(callSid),
      options.sipLineGraceMs,
    );
    this.leases = new RedisLeases(
      this.store,
      signed,
      this.local,
      instanceId,
      leaseTtlMs,
      options.clusterMaxCalls,
      this.lines,
    );
    this.records = new RedisRecords(this.store, signed, this.local, instanceId);
    this.controls = new RedisControl(
      this.store,
      signed,
      this.local,
      this.leases,
      instanceId,
      options.controlTimeoutMs ?? CONTROL_TIMEOUT_MS,
    );
    this.bus = new RedisEvents(this.store, signed, this.local, instanceId, observer);
    this.relay = new RedisChannels(this.store, signed, instanceId);
    this.sessions = new RedisSessionStore(this.store, signed, this.relay, options.secret);
    this.subscriber = new SubscriberWatch(
      this.store,
      () => this.controls.beat(),
      options.subscriberSilentMs ?? SUBSCRIBER_SILENT_MS,
      log,
    );
    this.store.sub.on('messageBuffer', (channel: Buffer, message: Buffer) =>
      this.onMessage(channel.toString(), message),
    );
    // Every event of this instance's calls goes to the call's channel, for followers elsewhere.
    const forward = (event: SharedCallEvent) => this.bus.forward(event);
    const onEnded = (event: SharedCallEvent) => this.records.pushRecord(event);
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
    try {
      await directory.store.connect(directory.controls.channel);
      await directory.secretCheck.assert();
    } catch (error) {
      directory.unhook();
      directory.local.dispose();
      await directory.store.close();
      throw error;
    }
    directory.heartbeat = setInterval(() => {
      void directory.secretCheck.renew();
      void directory.renewAll();
      void directory.lines.sweep();
      directory.subscriber.tick();
    }, options.heartbeatMs ?? HEARTBEAT_MS);
    directory.heartbeat.unref();
    options.log.log(
      `cluster mode: instance ${directory.instanceId} on ${redactRedisUrl(options.url)}` +
        (options.clusterMaxCalls ? `, CLUSTER_MAX_CALLS=${options.clusterMaxCalls}` : ''),
    );
    return directory;
  }

  /** Stops the heartbeat and closes both connections (after the drain: no live call is left). */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    this.unhook();
    this.local.dispose();
    this.controls.closeAll();
    await this.store.close();
  }

  hasClusterCapacity(): Promise<boolean> {
    return this.leases.hasClusterCapacity();
  }

  admit(call: LiveCall): Promise<Admission> {
    return this.leases.admit(call);
  }

  release(callSid: string): Promise<void> {
    return this.leases.release(callSid);
  }

  listing(): Promise<CallListing> {
    return this.leases.listing();
  }

  get(callSid: string): Promise<LiveCall | undefined> {
    return this.leases.get(callSid);
  }

  remember(scope: MemoryScope, key: string, ttlS: number): Promise<boolean> {
    return this.records.remember(scope, key, ttlS);
  }

  recalls(scope: MemoryScope, key: string): Promise<boolean> {
    return this.records.recalls(scope, key);
  }

  forget(scope: MemoryScope, key: string): Promise<void> {
    return this.records.forget(scope, key);
  }

  setPlan(callSid: string, plan: unknown, ttlS: number): Promise<void> {
    return this.records.setPlan(callSid, plan, ttlS);
  }

  getPlan(callSid: string): Promise<unknown> {
    return this.records.getPlan(callSid);
  }

  takePlan(callSid: string): Promise<unknown> {
    return this.records.takePlan(callSid);
  }

  recentRecords(limit?: number): Promise<CallRecordEntry[]> {
    return this.records.recentRecords(limit);
  }

  protected forgetRecord(callSid: string): Promise<void> {
    return this.records.forgetRecord(callSid);
  }

  onControl(handler: LocalControlHandler): void {
    this.local.onControl(handler);
  }

  control(callSid: string, command: ControlCommand): Promise<ControlResult> {
    return this.controls.control(callSid, command);
  }

  override onOrphanedLine(handler: OrphanedLineHandler): void {
    this.lines.onOrphaned(handler);
  }

  override async holdLine(callSid: string): Promise<void> {
    const call = await this.local.get(callSid);
    if (call?.transport === 'sip') await this.lines.hold(call);
  }

  override releaseLine(callSid: string): Promise<void> {
    return this.lines.release(callSid);
  }

  follow(callSid: string, listener: (event: SharedCallEvent) => void): () => void {
    return this.bus.follow(callSid, listener);
  }

  override channels(): ClusterChannels {
    return this.relay;
  }

  sessionStore(): RedisSessionStore {
    return this.sessions;
  }

  health(): DirectoryHealth {
    return this.store.health(this.instanceId);
  }

  private onMessage(channel: string, raw: Buffer): void {
    this.subscriber.heard();
    if (channel === this.controls.channel) this.controls.onMessage(raw);
    else if (channel.startsWith(redisKeys.eventsPrefix)) this.bus.onMessage(channel, raw);
    else this.relay.dispatch(channel, raw);
  }

  private onBack(outage: string): void {
    this.lines.forgetSuspects();
    void this.sessions.flush();
    const calls = this.local.localCalls().length;
    if (outage) this.options.log.log(`Redis is back${outage}: re-registering ${calls} live calls`);
    void this.renewAll();
  }

  /**
   * The heartbeat: renews (or writes again) the lease and entry of every call of ours, and writes
   * the replay memory kept while Redis was away; one pipeline, one round trip.
   */
  private async renewAll(): Promise<void> {
    if (!this.store.isUp || this.store.isClosing) return;
    if (this.local.localCalls().length === 0 && !this.records.hasBacklog) return;
    const pipeline = this.store.client.pipeline();
    const backlog = this.records.queueBacklog(pipeline);
    this.leases.queueRenewals(pipeline);
    const done = await this.store.attempt('heartbeat', () => pipeline.exec());
    // Not written: keep the memory for the next beat (the leases are rewritten anyway).
    if (done === undefined) this.records.requeue(backlog);
  }
}
