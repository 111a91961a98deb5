import { CALL_ID_PATTERN } from '../call/call-id.js';

/** Where OpenAI posts `realtime.call.incoming` (the project webhook's URL path). */
export const SIP_WEBHOOK_PATH = '/api/openai/webhook';

/**
 * Largest webhook body read. A `realtime.call.incoming` event is a few KiB even with every SIP
 * header a carrier adds; anything bigger is answered 413 without being read to the end.
 */
export const SIP_WEBHOOK_MAX_BODY_BYTES = 64 * 1024;

/**
 * Standard Webhooks: a timestamp further than this from our clock is refused (replays). The
 * `openai` package's default too; given explicitly so the dedupe TTL below follows it.
 */
export const WEBHOOK_TOLERANCE_S = 300;

/**
 * Bounds on the signature headers themselves, checked before any HMAC is computed. (The `openai`
 * package also bounds its work on a header of many signatures: past 32, it signs once.)
 */
export const MAX_WEBHOOK_ID_LENGTH = 256;
export const MAX_SIGNATURE_HEADER_LENGTH = 2048;

/**
 * Delivery ids remembered to drop OpenAI's retries of a webhook it already delivered. Ten minutes
 * is twice the timestamp tolerance: a retry older than that is refused by its timestamp anyway.
 * (How many ids at most: WEBHOOK_DEDUPE_MAX_ENTRIES, a bound of the CallDirectory's memory.)
 */
export const WEBHOOK_DEDUPE_TTL_MS = 2 * WEBHOOK_TOLERANCE_S * 1000;

/**
 * SIP headers come from whoever placed the call: bounded in count, name and value length, and
 * characters (no control characters), before anything reads them.
 */
export const MAX_SIP_HEADERS = 64;
export const MAX_SIP_HEADER_NAME_LENGTH = 64;
export const MAX_SIP_HEADER_VALUE_LENGTH = 1024;

/** OpenAI's call ids (`rtc_...`) go into URL paths and query strings: the one call-id shape. */
export { CALL_ID_PATTERN };

/** An id of OpenAI's calls API as the call-control routes accept it (`rtc_...`). */
export function isSipCallId(value: string): boolean {
  return value.startsWith('rtc_') && CALL_ID_PATTERN.test(value);
}

/** Each attempt of a calls-API request (accept, reject, refer, hangup) gives up after this. */
export const CALLS_API_TIMEOUT_MS = 5000;
/**
 * Retries of a `reject` or `hangup`, the requests that are harmless to repeat (an `accept` or a
 * `refer` is never retried): at most three attempts, the `openai` package's backoff between
 * them (0.5 s, then 1 s, less up to 25 % jitter; a Retry-After of up to 60 s is honoured).
 */
export const CALLS_API_REPEATABLE_RETRIES = 2;
/** A calls-API request gives up after this, retries and their waits included. */
export const CALLS_API_DEADLINE_MS = 20_000;
/** Error bodies from the calls API are logged up to this many characters. */
export const CALLS_API_MAX_ERROR_CHARS = 500;

/**
 * Waits before each sideband connection attempt, per outage: the first at once, at most four. A
 * sideband lost mid-call is reopened with the same budget; past it the call is hung up.
 */
export const SIDEBAND_BACKOFF_MS = [0, 250, 750, 1500] as const;

/** SIP status codes the bridge answers calls with. */
export const SIP_BUSY = 486;
