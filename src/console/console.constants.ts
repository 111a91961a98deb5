/** Every bound of the operator console, named in one place (docs/console.md lists them). */

/** The session cookie (`HttpOnly; SameSite=Strict; Path=/console`, under the bridge's mount). */
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
