import type { RelayBounds } from '../listen/relay-link.js';

/** Every bound of the operator console, named in one place (docs/console.md lists them). */

/** The session cookie (`HttpOnly; SameSite=Strict; Path=/console`). */
export const SESSION_COOKIE = 'bridge_console';
/** A console session lasts this long after logging in, whatever it does meanwhile. */
export const SESSION_TTL_S = 12 * 60 * 60;
/** Sessions held at once (by the cluster, in cluster mode); logging in beyond this ends the oldest one. */
export const MAX_SESSIONS = 100;
/**
 * While a session has event streams or listen sockets open on an instance, that instance checks
 * the session this often: one that expired, or ended elsewhere without the bus telling (a lost
 * message), has them closed within this time. A logout's bus message closes them at once.
 */
export const SESSION_RECHECK_MS = 30_000;

/**
 * Wrong tokens answered 401 per client address within LOGIN_WINDOW_S; beyond, 429 until the
 * window passes. The right token is still accepted meanwhile (LoginThrottle).
 */
export const LOGIN_MAX_FAILURES = 5;
export const LOGIN_WINDOW_S = 60;
/**
 * Wrong tokens within LOGIN_WINDOW_S from all addresses together; beyond, 429 for every wrong
 * token. Addresses are only as real as the proxy in front says (a client that can set the
 * rightmost X-Forwarded-For entry gets a new address per request): this bound holds whatever
 * the addresses. The right token is still accepted, so it locks nobody out.
 */
export const LOGIN_MAX_FAILURES_TOTAL = 100;
/** Logins with the right token per client address within LOGIN_WINDOW_S; beyond, 429. */
export const LOGIN_MAX_SUCCESSES = 30;
/** Client addresses remembered by each login bound (the oldest are forgotten first). */
export const LOGIN_TRACKED_ADDRESSES = 1000;

/** Server-sent event streams open at once across all console pages; beyond it: 503. */
export const MAX_LIVE_FOLLOWERS = 32;
/**
 * A call view opened on an instance that does not carry the call is relayed from its owner over
 * the cluster bus (console-view-relay-*.ts). Relayed views an instance holds at once, as the
 * asking side (the owner counts them among its MAX_LIVE_FOLLOWERS); the owner must answer within
 * CONSOLE_VIEW_OPEN_TIMEOUT_MS (504 otherwise).
 */
export const MAX_RELAYED_VIEWS = 100;
export const CONSOLE_VIEW_OPEN_TIMEOUT_MS = 2_000;
/**
 * One relayed view event's bytes as sealed on the bus (a string in the batch's JSON, quoted again
 * by the envelope: up to 4x its own size): half of MAX_BUS_MESSAGE_BYTES. A snapshot over it is
 * sent with fewer entries; another event over it ends the view (the page opens it again).
 */
export const MAX_RELAYED_VIEW_EVENT_BYTES = 128 * 1024;
/**
 * What one relayed view may put on the bus, counted as sealed: its snapshot at once, then a few
 * stats events a second and entries as they happen. A batch stays within one event's bound.
 */
export const CONSOLE_VIEW_RELAY_BOUNDS: RelayBounds = {
  bytesPerS: 2 * MAX_RELAYED_VIEW_EVENT_BYTES,
  maxQueuedFrames: 100,
  batchFrames: 20,
  batchBytes: MAX_RELAYED_VIEW_EVENT_BYTES,
};
/** How often followed calls are sampled (state, levels) and the calls table refreshed. */
export const SAMPLE_INTERVAL_MS = 250;
// Heartbeat, event size and slow readers: the rules of every event stream (src/http/sse.constants.ts).

/** Timeline entries (turns, tools, key presses, interruptions) kept per call; oldest go first. */
export const MAX_TIMELINE_ENTRIES = 500;
/** Longest text kept per entry (a turn, a tool's arguments or output). */
export const MAX_ENTRY_TEXT = 4000;
/** Finished calls kept, with their records and timelines, for "Recent calls". */
export const RECENT_CALLS = 50;

/** Timeout of each setup check's request to OpenAI or Twilio. */
export const CHECK_TIMEOUT_MS = 5000;
/** Phone numbers of the account listed by the checklist. */
export const MAX_LISTED_NUMBERS = 100;
