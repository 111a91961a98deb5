import { CALLS_API_DEADLINE_MS, CALLS_API_TIMEOUT_MS } from '../sip-call/sip.constants.js';
import { TWILIO_REST_TIMEOUT_MS } from '../twilio-rest/twilio-rest.constants.js';
import type { MemoryScope } from './call-directory.js';

/**
 * Every bound of the shared state, named. The lease numbers set how fast a crashed instance's
 * calls disappear: at most LEASE_TTL_MS after its last heartbeat (the contract says 20 s).
 */

/** A lease lives this long unless renewed. */
export const LEASE_TTL_MS = 10_000;
/** Each instance renews the leases of its live calls this often (three tries per lease life). */
export const HEARTBEAT_MS = 3_000;

/**
 * The subscriber counts as deaf when nothing, not even this instance's own beat (one a
 * heartbeat), reached it for this long while Redis answers commands; it is then reconnected.
 */
export const SUBSCRIBER_SILENT_MS = 10_000;

/**
 * A SIP call's line is held in Redis from OpenAI's accept until OpenAI confirms it down. OpenAI
 * keeps a SIP call up on its own, so when the instance running it dies (SIGKILL, OOM, a lost
 * node), or its hang-up fails, the caller would go on talking with an assistant whose tools no
 * one answers and whose time limit no one enforces. An instance hangs such a call up once its
 * line has been seen unheld for this long, Redis up all the while: long enough for every live
 * instance to hold its lines again after Redis itself restarted or was away (its heartbeat does
 * at once).
 */
export const SIP_LINE_ORPHAN_GRACE_MS = 30_000;
/** Unheld lines looked at per heartbeat (the oldest first), and so hung up at once at most. */
export const MAX_ORPHAN_LINES_PER_SWEEP = 100;
/**
 * A line's signed call is accepted this long after its owner last signed it: OpenAI ends a
 * Realtime session within an hour, so an older line has no call left to hang up.
 */
export const SIP_LINE_RECORD_MAX_AGE_MS = 60 * 60_000;

/**
 * An owner runs a control request (hang-up, transfer, say) only if it arrives within this long of
 * being sent (`expired` otherwise): what is left of its asker's wait must cover the action and the
 * answer's way back, or an asker that answered 504 would see the action carried out after all.
 */
export const CONTROL_ACCEPT_WINDOW_MS = 2_000;
/**
 * The longest an owner's action on a call takes, SIP hang-ups aside: one Twilio REST request (a
 * hang-up, a redirect), or one SIP REFER (never retried), each bounded by its client's timeout.
 */
export const CONTROL_ACTION_MAX_MS = Math.max(TWILIO_REST_TIMEOUT_MS, CALLS_API_TIMEOUT_MS);
/** The answer's way back over the bus. */
export const CONTROL_REPLY_SLACK_MS = 1_000;
/** How long an asker waits for the owner's answer before answering 504 (8 s). */
export const CONTROL_TIMEOUT_MS =
  CONTROL_ACCEPT_WINDOW_MS + CONTROL_ACTION_MAX_MS + CONTROL_REPLY_SLACK_MS;
/**
 * A SIP call's hang-up is retried by the owner for up to CALLS_API_DEADLINE_MS (it is harmless
 * to repeat), so its asker waits for that instead of one request: a shorter wait answered 504
 * for hang-ups that then succeeded.
 */
export const SIP_HANGUP_CONTROL_TIMEOUT_MS =
  CONTROL_ACCEPT_WINDOW_MS + CALLS_API_DEADLINE_MS + CONTROL_REPLY_SLACK_MS;
/** Control requests waiting for an answer at once, per instance. */
export const MAX_PENDING_CONTROL = 1_000;

/**
 * Outbound-call plans held in process memory (single instance, or while Redis is away); beyond
 * it the oldest goes first (its call starts with the default settings). Plans live 10 minutes
 * and are written only for calls Twilio has created: this is ~16 calls a second for 10 minutes.
 */
export const MAX_PLANS_IN_MEMORY = 10_000;

/** Finished call records kept (newest first) for "recent calls". */
export const RECENT_CALLS_MAX = 100;

/**
 * CallSids remembered as streamed (the oldest go first beyond it). Each costs ~100 bytes of
 * heap (a Map entry and the CallSid), so this is ~25 MB at most: a full day of one instance at
 * 500 calls of three minutes (2.8 a second). Past it, the memory covers less than
 * STREAM_REPLAY_MEMORY_S; the stream token's own lifetime still bounds a replayed `start`.
 */
export const MAX_REMEMBERED_STREAMS = 250_000;
/**
 * With Redis, the replay memory is Redis's; each instance keeps only a copy of its newest claims
 * in process, for a Redis outage (~5 MB): hours of calls at full load.
 */
export const MAX_REMEMBERED_STREAMS_LOCALLY = 50_000;
/**
 * SIP webhook delivery ids remembered (for WEBHOOK_DEDUPE_TTL_MS). The bound keeps a flood of
 * valid deliveries from growing memory; past it the oldest ids are forgotten, and the call
 * registry's memory of live and ended calls still stops a second accept.
 */
export const WEBHOOK_DEDUPE_MAX_ENTRIES = 10_000;
/** Keys held per memory scope in process memory (TtlMemory): the oldest go first beyond it. */
export const MAX_REMEMBERED: Readonly<Record<MemoryScope, number>> = {
  'stream-started': MAX_REMEMBERED_STREAMS,
  'webhook-id': WEBHOOK_DEDUPE_MAX_ENTRIES,
};
/** Replay-memory writes kept while Redis is down, written once it is back. */
export const MAX_REPLAY_BACKLOG = 10_000;

/** Start-up: Redis must answer this soon, or the process exits with one clear line. */
export const REDIS_CONNECT_TIMEOUT_MS = 5_000;
/** A single Redis command never holds a call up for longer than this. */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;
/**
 * Closing at shutdown (leases released, connections quit) gives up on a Redis that does not
 * answer after this, and drops the connections: within the last step of shutdown-bounds.ts.
 */
export const REDIS_CLOSE_MS = 3_000;
/** Idle time before TCP keepalive probes on both Redis connections (under cloud NAT timeouts). */
export const REDIS_KEEPALIVE_MS = 30_000;
/**
 * Commands in a row that get no answer within REDIS_COMMAND_TIMEOUT_MS before a Redis whose
 * connection is still open counts as down (hung); one slow command alone does not.
 */
export const REDIS_HUNG_AFTER_TIMEOUTS = 2;
/** Reconnect backoff cap while Redis is away, and how often a hung Redis is asked for a PING. */
export const REDIS_RETRY_MAX_MS = 2_000;

/** Largest JSON message accepted from the bus (control, replies, events). */
export const MAX_BUS_MESSAGE_BYTES = 256 * 1024;

/** Every key and channel of the bridge in Redis starts with this. */
export const KEY_PREFIX = 'bridge:';

/** Log lines a second about dropped bus messages (the rest are counted in the next line). */
export const BUS_REJECT_LOG_LINES_PER_S = 1;
/** A burst of that many such lines first. */
export const BUS_REJECT_LOG_BURST = 5;
/** Control request ids remembered (for BUS_MESSAGE_WINDOW_MS) so a captured one acts once. */
export const MAX_SEEN_CONTROL_IDS = 10_000;
/**
 * Console logouts made while Redis was away, kept (their sessions refused here meanwhile) and
 * written once it is back; beyond it the oldest go first (those sessions then last until their
 * expiry on other instances).
 */
export const MAX_PENDING_SESSION_ENDS = 1_000;
