import { isObject, isString } from '../text/json-guards.js';
import {
  CALL_ID_PATTERN,
  MAX_SIP_HEADER_NAME_LENGTH,
  MAX_SIP_HEADER_VALUE_LENGTH,
  MAX_SIP_HEADERS,
} from './sip.constants.js';

export interface SipHeader {
  name: string;
  value: string;
}

/** A `realtime.call.incoming` event, validated: what the bridge needs to answer the call. */
export interface IncomingSipCall {
  /** The event's own id (`evt_...`). */
  eventId: string;
  /** OpenAI's id of the call (`rtc_...`): the calls API and the sideband are addressed by it. */
  callId: string;
  sipHeaders: SipHeader[];
  /** The caller's number (or SIP user) from `From`, when it has a usable one. */
  from?: string;
  /** The dialled number (or SIP user) from `To`: it picks the call's profile. */
  to?: string;
  /** The SIP dialog's `Call-ID`, to find the call in the carrier's logs. */
  sipCallId?: string;
}

export type WebhookEventParse =
  | { kind: 'incoming'; call: IncomingSipCall }
  | { kind: 'ignored'; type: string }
  | { kind: 'invalid'; reason: string };

/** An HTTP header name (RFC 9110 token), as SIP header names are. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
/** Control characters (tab allowed): never in a header value that reaches logs or a model. */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\x00-\x08\x0a-\x1f\x7f]/;
const PHONE = /^\+?[0-9*#]{3,20}$/;
const SIP_USER = /^[A-Za-z0-9._+*#-]{1,64}$/;

/**
 * Parses a webhook body. Only `realtime.call.incoming` is acted on; any other event type is
 * `ignored` (OpenAI may send more kinds to the same URL), and fields the bridge does not read
 * are tolerated. What it does read is checked: the call id's shape, and the SIP headers, which
 * whoever placed the call controls.
 */
export function parseWebhookEvent(body: Buffer): WebhookEventParse {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return { kind: 'invalid', reason: 'the body is not JSON' };
  }
  if (!isObject(value) || !isString(value.type)) {
    return { kind: 'invalid', reason: 'the body is not an event (no type)' };
  }
  if (value.type !== 'realtime.call.incoming') return { kind: 'ignored', type: value.type };
  const data = value.data;
  if (!isObject(data)) return { kind: 'invalid', reason: 'data is missing' };
  if (!isString(data.call_id) || !CALL_ID_PATTERN.test(data.call_id)) {
    return { kind: 'invalid', reason: 'data.call_id is missing or malformed' };
  }
  const headers = parseSipHeaders(data.sip_headers);
  if (typeof headers === 'string') return { kind: 'invalid', reason: headers };
  const header = (...names: string[]) =>
    headers.find((h) => names.includes(h.name.toLowerCase()))?.value;
  return {
    kind: 'incoming',
    call: {
      eventId: isString(value.id) ? value.id.slice(0, 128) : '',
      callId: data.call_id,
      sipHeaders: headers,
      // SIP allows compact header names: f (From), t (To), i (Call-ID).
      from: userOfSipAddress(header('from', 'f')),
      to: userOfSipAddress(header('to', 't')),
      // Already bounded and free of control characters, like every header.
      sipCallId: header('call-id', 'i'),
    },
  };
}

/** The headers, or a string saying what is wrong with them. A missing list is an empty one. */
function parseSipHeaders(value: unknown): SipHeader[] | string {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return 'data.sip_headers is not a list';
  if (value.length > MAX_SIP_HEADERS) {
    return `data.sip_headers has ${value.length} entries (at most ${MAX_SIP_HEADERS})`;
  }
  const headers: SipHeader[] = [];
  for (const [index, entry] of value.entries()) {
    if (!isObject(entry) || !isString(entry.name) || !isString(entry.value)) {
      return `data.sip_headers[${index}] is not {name, value} strings`;
    }
    const { name, value: text } = entry;
    if (name.length === 0 || name.length > MAX_SIP_HEADER_NAME_LENGTH || !HEADER_NAME.test(name)) {
      return `data.sip_headers[${index}].name is not a header name of at most ${MAX_SIP_HEADER_NAME_LENGTH} characters`;
    }
    if (text.length > MAX_SIP_HEADER_VALUE_LENGTH) {
      return `data.sip_headers[${index}] (${name}) is longer than ${MAX_SIP_HEADER_VALUE_LENGTH} characters`;
    }
    if (CONTROL_CHARS.test(text)) {
      return `data.sip_headers[${index}] (${name}) contains control characters`;
    }
    headers.push({ name, value: text });
  }
  return headers;
}

/**
 * The user part of a SIP name-addr (`"Ann" <sip:+15551230001@host;user=phone>;tag=x`) or a
 * `tel:` URI: the phone number when it is one, else a plain SIP user name, else undefined.
 */
export function userOfSipAddress(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const angle = /<([^>]*)>/.exec(value);
  const uri = (angle ? angle[1] : value).trim();
  const match = /^(?:sips?|tel):([^@;?>]+)/i.exec(uri);
  if (!match) return undefined;
  let user = match[1];
  try {
    user = decodeURIComponent(user);
  } catch {
    return undefined;
  }
  // Numbers are often written with visual separators (tel:+1-555-123-0001).
  const digits = user.replace(/[-.() ]/g, '');
  if (PHONE.test(digits)) return digits;
  return SIP_USER.test(user) ? user : undefined;
}
