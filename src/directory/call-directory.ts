import type { ClusterChannels } from './cluster-channels.js';
import type { SessionStore } from './session-store.js';
import { CallErasures, type ErasureListener } from './call-erasures.js';

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
  | {
      ok: false;
      reason: string;
      /**
       * `full`: CLUSTER_MAX_CALLS are live. `live`: this call already holds a lease (here or on
       * another instance), so the refusal is about a repeat, not about this call's fate.
       */
      why: 'full' | 'live';
    };

/**
 * What an operator asks the owner of a call to do (src/call-control/). `announce`: the assistant
 * says a handover sentence before the transfer (the console); without it, at once (the API).
 */
export type ControlCommand =
  | { action: 'hangup' }
  | { action: 'transfer'; number: string; announce?: boolean }
  | { action: 'say'; text: string }
  | { action: 'end'; reason?: string };

/** What became of a call that was acted on. */
export const CONTROL_OUTCOMES = [
  'completed',
  'transferred',
  'transferring',
  'saying',
  'ending',
] as const;
export type ControlOutcome = (typeof CONTROL_OUTCOMES)[number];

/**
 * Why call control did not act, in the domain's words: each surface maps them the same way
 * (call-control/control-response.ts), and the bus carries them as they are.
 * - `malformed_id`: not a call id (a Twilio CallSid or OpenAI's rtc_...)
 * - `unknown_call`: no instance carries the call
 * - `refused`: not allowed here at all (a transfer with no transfer number configured)
 * - `invalid_target`: a destination that is malformed, not on the list, or not one this call
 *   can reach
 * - `invalid_text`: a sentence that is empty or too long
 * - `unavailable`: cannot act now (a carrier API not configured, the owner out of reach, Redis
 *   down, shutting down)
 * - `timeout`: the owner did not answer in time
 * - `carrier_failed`: the carrier (Twilio, OpenAI) refused the request
 * - `failed`: anything else that went wrong while acting
 */
export const CONTROL_ERRORS = [
  'malformed_id',
  'unknown_call',
  'refused',
  'invalid_target',
  'invalid_text',
  'unavailable',
  'timeout',
  'carrier_failed',
  'failed',
] as const;
export type ControlError = (typeof CONTROL_ERRORS)[number];

/** The owner's answer, carried back to whichever instance was asked. */
export type ControlResult =
  | { ok: true; status: ControlOutcome; to?: string }
  | { ok: false; error: ControlError; reason: string };

/** A failure's reason is cut to this many characters (a carrier's error text may be long). */
export const MAX_CONTROL_REASON_CHARS = 1_000;

/** A failed ControlResult. */
export function controlFailure(error: ControlError, reason: string): ControlResult {
  return { ok: false, error, reason: reason.slice(0, MAX_CONTROL_REASON_CHARS) };
}

/** Acts on a call whose sockets are in this process (registered once by the call layer). */
export type LocalControlHandler = (
  callSid: string,
  command: ControlCommand,
) => Promise<ControlResult>;

/** Hangs up a SIP call whose instance is gone (registered by the SIP transport). */
export type OrphanedLineHandler = (call: LiveCall) => Promise<void>;

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
export type MemoryScope = 'stream-started' | 'webhook-id';

export interface CallListing {
  calls: LiveCall[];
  /** Only this instance's calls: the shared store could not be read (other calls go on). */
  partial: boolean;
}

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

  /**
   * Every live call of the cluster (owners whose leases have expired are left out), `partial`
   * when the shared store could not be read and only this instance's calls are listed.
   */
  abstract listing(): Promise<CallListing>;

  /** Every live call the store could list (see listing). */
  async list(): Promise<LiveCall[]> {
    return (await this.listing()).calls;
  }

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

  /** An erased call's record leaves the recent list. */
  protected abstract forgetRecord(callSid: string): Promise<void>;

  private readonly erasures = new CallErasures(() => this.channels());

  /**
   * A call erased from the history: its record leaves the recent list, and every instance of
   * the cluster (this one too) forgets what it keeps of it (onCallErased).
   */
  async eraseCall(callSid: string): Promise<void> {
    await this.forgetRecord(callSid);
    await this.erasures.erased(callSid);
  }

  /** `listener` runs for every call erased anywhere in the cluster (`elsewhere`: not here). */
  onCallErased(listener: ErasureListener): void {
    this.erasures.onErased(listener);
  }

  // ---- control and events ----

  /** Registers what this instance does when asked to act on one of its own calls. */
  abstract onControl(handler: LocalControlHandler): void;

  /**
   * Runs `command` on the call's owner, wherever it is, and returns its answer: `unknown_call`
   * when no instance owns the call, `timeout` when the owner does not answer in time.
   */
  abstract control(callSid: string, command: ControlCommand): Promise<ControlResult>;

  /**
   * Follows one call's events (every `call.*` event the owner emits), whichever instance owns
   * it; returns the unsubscribe.
   */
  abstract follow(callSid: string, listener: (event: SharedCallEvent) => void): () => void;

  /**
   * Registers who hangs up a SIP call whose instance is gone: OpenAI carries such a call on its
   * own, with no one left to answer its tools. Only a shared store can tell; in process memory
   * the calls die with the one process, so nothing is ever found.
   */
  onOrphanedLine(_handler: OrphanedLineHandler): void {}

  /** A SIP call of this instance was accepted: its line is held until `releaseLine`. */
  holdLine(_callSid: string): Promise<void> {
    return Promise.resolve();
  }

  /**
   * OpenAI confirmed the SIP call's line down. A line never released (its hang-up failed, or
   * the process exited first) is hung up again later by whichever instance finds it.
   */
  releaseLine(_callSid: string): Promise<void> {
    return Promise.resolve();
  }

  /** Where console sessions are kept: with the rest of the shared state (memory or Redis). */
  abstract sessionStore(): SessionStore;

  /** The bus's signed channels, for features of their own (the listen relay); cluster mode only. */
  channels(): ClusterChannels | undefined {
    return undefined;
  }

  // ---- state of the store ----

  abstract health(): DirectoryHealth;

  /** The app is closing (after the drain): let go of listeners and connections. */
  abstract close(): Promise<void>;
}
