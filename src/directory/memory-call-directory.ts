import type { EventEmitter2 } from '@nestjs/event-emitter';
import {
  CallDirectory,
  controlFailure,
  type Admission,
  type CallListing,
  type CallRecordEntry,
  type ControlCommand,
  type ControlResult,
  type DirectoryHealth,
  type LiveCall,
  type LocalControlHandler,
  type MemoryScope,
  type SharedCallEvent,
} from './call-directory.js';
import { MAX_PLANS_IN_MEMORY, RECENT_CALLS_MAX } from './cluster.constants.js';
import { MemorySessionStore } from './memory-session-store.js';
import { TtlMemory, type TtlMemoryOptions } from './ttl-memory.js';

export interface MemoryDirectoryOptions {
  instanceId: string;
  /** CLUSTER_MAX_CALLS: in memory the cluster is this one process. */
  clusterMaxCalls?: number;
  /** Where the calls' `call.*` events are emitted (for `follow` and the recent records). */
  events: EventEmitter2;
  /** Bounds and clock of the replay memory (tests set them). */
  memory?: TtlMemoryOptions;
}

/**
 * Shared state held in this process: the default, and what one instance behind no load balancer
 * needs. The Redis directory also keeps one of these, so that its own calls, replay memory and
 * plans survive while Redis is away.
 */
export class MemoryCallDirectory extends CallDirectory {
  readonly instanceId: string;
  private readonly calls = new Map<string, LiveCall>();
  /** Replay memory and de-duplication ("seen once" keys with a TTL). */
  readonly memory: TtlMemory;
  private readonly plans = new Map<string, { plan: unknown; expiresAt: number }>();
  private readonly records: CallRecordEntry[] = [];
  private handler?: LocalControlHandler;
  private sessions?: MemorySessionStore;
  private readonly stopRecording: () => void;

  constructor(private readonly options: MemoryDirectoryOptions) {
    super();
    this.instanceId = options.instanceId;
    this.memory = new TtlMemory(options.memory);
    const onEnded = (event: SharedCallEvent) => this.addRecord(event);
    options.events.on('call.ended', onEnded);
    this.stopRecording = () => options.events.off('call.ended', onEnded);
  }

  /** Stops listening to the app's events (the app is closing). */
  dispose(): void {
    this.stopRecording();
  }

  close(): Promise<void> {
    this.dispose();
    return Promise.resolve();
  }

  /** The calls this process carries (the Redis directory re-registers them after an outage). */
  localCalls(): LiveCall[] {
    return [...this.calls.values()];
  }

  isLocal(callSid: string): boolean {
    return this.calls.has(callSid);
  }

  hasClusterCapacity(): Promise<boolean> {
    const max = this.options.clusterMaxCalls;
    return Promise.resolve(max === undefined || this.calls.size < max);
  }

  admit(call: LiveCall): Promise<Admission> {
    return Promise.resolve(this.admitNow(call));
  }

  /** Synchronous admission (the Redis directory's local half). */
  admitNow(call: LiveCall): Admission {
    if (this.calls.has(call.callSid)) {
      return { ok: false, reason: 'this call is already live', why: 'live' };
    }
    const max = this.options.clusterMaxCalls;
    if (max !== undefined && this.calls.size >= max) {
      return { ok: false, reason: `CLUSTER_MAX_CALLS (${max}) calls already live`, why: 'full' };
    }
    this.calls.set(call.callSid, { ...call, instance: this.instanceId });
    return { ok: true, degraded: false };
  }

  release(callSid: string): Promise<void> {
    this.calls.delete(callSid);
    return Promise.resolve();
  }

  listing(): Promise<CallListing> {
    return Promise.resolve({ calls: this.localCalls(), partial: false });
  }

  get(callSid: string): Promise<LiveCall | undefined> {
    return Promise.resolve(this.calls.get(callSid));
  }

  remember(scope: MemoryScope, key: string, ttlS: number): Promise<boolean> {
    return Promise.resolve(this.memory.remember(scope, key, ttlS));
  }

  recalls(scope: MemoryScope, key: string): Promise<boolean> {
    return Promise.resolve(this.memory.recalls(scope, key));
  }

  forget(scope: MemoryScope, key: string): Promise<void> {
    this.memory.forget(scope, key);
    return Promise.resolve();
  }

  setPlan(callSid: string, plan: unknown, ttlS: number): Promise<void> {
    const now = Date.now();
    // Oldest first (one TTL for every plan): stop at the first that is still live.
    for (const [sid, entry] of this.plans) {
      if (entry.expiresAt > now && this.plans.size < MAX_PLANS_IN_MEMORY) break;
      this.plans.delete(sid);
    }
    this.plans.delete(callSid);
    this.plans.set(callSid, { plan, expiresAt: now + ttlS * 1000 });
    return Promise.resolve();
  }

  getPlan(callSid: string): Promise<unknown> {
    return Promise.resolve(this.planNow(callSid));
  }

  planNow(callSid: string): unknown {
    const entry = this.plans.get(callSid);
    return entry && entry.expiresAt > Date.now() ? entry.plan : undefined;
  }

  takePlan(callSid: string): Promise<unknown> {
    const plan = this.planNow(callSid);
    this.plans.delete(callSid);
    return Promise.resolve(plan);
  }

  addRecord(event: SharedCallEvent): void {
    this.records.unshift({ ...event, instance: this.instanceId });
    this.records.length = Math.min(this.records.length, RECENT_CALLS_MAX);
  }

  recentRecords(limit = RECENT_CALLS_MAX): Promise<CallRecordEntry[]> {
    return Promise.resolve(this.records.slice(0, Math.max(0, limit)));
  }

  forgetRecord(callSid: string): Promise<void> {
    for (let i = this.records.length - 1; i >= 0; i--) {
      if (this.records[i].callSid === callSid) this.records.splice(i, 1);
    }
    return Promise.resolve();
  }

  onControl(handler: LocalControlHandler): void {
    this.handler = handler;
  }

  control(callSid: string, command: ControlCommand): Promise<ControlResult> {
    if (!this.calls.has(callSid)) {
      return Promise.resolve(controlFailure('unknown_call', `no live call ${callSid}`));
    }
    return this.controlLocal(callSid, command);
  }

  /** Runs a command on a call of this process through the registered handler. */
  async controlLocal(callSid: string, command: ControlCommand): Promise<ControlResult> {
    if (!this.handler) return controlFailure('unavailable', 'call control is not available');
    try {
      return await this.handler(callSid, command);
    } catch (error) {
      return controlFailure('failed', error instanceof Error ? error.message : 'error');
    }
  }

  follow(callSid: string, listener: (event: SharedCallEvent) => void): () => void {
    const onEvent = (event: SharedCallEvent) => {
      if (event.callSid === callSid) listener(event);
    };
    this.options.events.on('call.*', onEvent);
    return () => this.options.events.off('call.*', onEvent);
  }

  sessionStore(): MemorySessionStore {
    return (this.sessions ??= new MemorySessionStore());
  }

  health(): DirectoryHealth {
    return { mode: 'memory', instance: this.instanceId, store: 'up' };
  }
}
