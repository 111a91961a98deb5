/**
 * The one interface for state that several bridge instances share. Code above it (the gateway,
 * the TwiML webhook, the call-control API, SSE, health) asks it "which calls are live, who owns
 * them, may this one start, tell the owner to act, follow its events" and never knows whether
 * the answer comes from this process's memory (the default) or from Redis (`REDIS_URL`).
 */

/** A live call as every instance sees it (`GET /api/calls`). */
export interface LiveCall {
  callSid: string;
  /** INSTANCE_ID of the instance whose sockets carry the call. */
  instance: string;
  from?: string;
  to?: string;
  /** ISO time the stream started. */
  startedAt: string;
  direction: CallDirection;
  streamSid?: string;
  profile?: string;
  /** `media` (Twilio Media Streams, the default) or `sip` (OpenAI SIP). */
  transport?: 'media' | 'sip';
}

export type CallDirection = 'inbound' | 'outbound';

/** Why a call may not start; `ok` calls hold a lease until `release`. */
export type Admission =
  | {
      ok: true;
      /** admitted on the local limit only, because the shared store is down */ degraded: boolean;
    }
  | { ok: false; reason: string };

/** What an operator asks the owner of a call to do (any call route of the API). */
export type ControlCommand =
  | { action: 'hangup' }
  | { action: 'transfer'; number: string }
  | { action: 'end'; reason?: string };

/** What the owner answers: an HTTP-like status and a JSON body, or an error message. */
export interface ControlResult {
  status: number;
  body: Record<string, unknown>;
}

/** Acts on a call whose sockets are in this process (registered once by the call layer). */
export type LocalControlHandler = (
  callSid: string,
  command: ControlCommand,
) => Promise<ControlResult>;

/** A call event as carried to followers (the `call.*` payloads: each names its own `event`). */
export interface SharedCallEvent {
  event: string;
  callSid: string;
  [field: string]: unknown;
}

/** A finished call's record (the `call.ended` payload plus who carried it). */
export interface CallRecordEntry {
  callSid: string;
  instance: string;
  [field: string]: unknown;
}

/** Replay memory scopes: what kind of "already seen" a key is. */
export type MemoryScope = 'stream-issued' | 'stream-started' | 'webhook-id';

export interface DirectoryHealth {
  mode: 'memory' | 'redis';
  instance: string;
  /** `down` while Redis cannot be reached (live calls go on; admission is local only). */
  store: 'up' | 'down';
  /** Since when the store is down (ISO), when it is. */
  downSince?: string;
}

/**
 * The shared-state contract. An abstract class rather than an interface so that it can be the
 * Nest injection token itself (`constructor(private readonly directory: CallDirectory)`).
 */
export abstract class CallDirectory {
  abstract readonly instanceId: string;

  // ---- admission and the live-call directory ----

  /**
   * A cheap look before the webhook hands out a stream: is there room in the cluster for one
   * more call? (The stream's `admit` is what counts; this only saves a doomed stream.)
   */
  abstract hasClusterCapacity(): Promise<boolean>;

  /**
   * Takes a lease for a call whose stream has authenticated: atomic against CLUSTER_MAX_CALLS,
   * renewed by this instance's heartbeat until `release`. The per-instance limit
   * (MAX_CONCURRENT_CALLS) is the caller's, checked before.
   */
  abstract admit(call: LiveCall): Promise<Admission>;

  /**
   * The call ended here: its lease and directory entry go. (Its record joins the recent list by
   * itself, from the `call.ended` event.)
   */
  abstract release(callSid: string): Promise<void>;

  /** Every live call of the cluster (owners whose leases have expired are left out). */
  abstract list(): Promise<LiveCall[]>;

  abstract get(callSid: string): Promise<LiveCall | undefined>;

  // ---- replay memory and de-duplication ----

  /**
   * Remembers `key` in `scope` for `ttlS` seconds; true if it was not remembered yet (the
   * caller is first), false if it was. Atomic across instances (`SET NX EX`).
   */
  abstract remember(scope: MemoryScope, key: string, ttlS: number): Promise<boolean>;

  /** True if `key` is remembered in `scope`. */
  abstract recalls(scope: MemoryScope, key: string): Promise<boolean>;

  /** Forgets `key` (e.g. the bridge itself redirects a call to a new stream). */
  abstract forget(scope: MemoryScope, key: string): Promise<void>;

  // ---- outbound call plans ----

  /** Keeps what `POST /api/calls` was given until the call's stream starts, on any instance. */
  abstract setPlan(callSid: string, plan: unknown, ttlS: number): Promise<void>;

  abstract getPlan(callSid: string): Promise<unknown>;

  /** The plan, removed: it is used once, when the stream starts. */
  abstract takePlan(callSid: string): Promise<unknown>;

  // ---- recent finished calls ----

  /** The last finished calls, newest first, at most `limit`. */
  abstract recentRecords(limit?: number): Promise<CallRecordEntry[]>;

  // ---- control and events ----

  /** Registers what this instance does when asked to act on one of its own calls. */
  abstract onControl(handler: LocalControlHandler): void;

  /**
   * Runs `command` on the call's owner, wherever it is, and returns its answer: 404 when no
   * instance owns the call, 504 when the owner does not answer in time.
   */
  abstract control(callSid: string, command: ControlCommand): Promise<ControlResult>;

  /**
   * Follows one call's events (every `call.*` event the owner emits), whichever instance owns
   * it; returns the unsubscribe.
   */
  abstract follow(callSid: string, listener: (event: SharedCallEvent) => void): () => void;

  // ---- state of the store ----

  abstract health(): DirectoryHealth;

  /** The app is closing (after the drain): let go of listeners and connections. */
  abstract close(): Promise<void>;
}
