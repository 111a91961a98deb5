import {
  base64StringEnd,
  CLOSE_BRACE,
  COLON,
  COMMA,
  OPEN_BRACE,
  plainStringEnd,
  QUOTE,
  spells,
  textAt,
} from '../common/json-bytes.js';
import { isBase64, isObject, isString, type Json } from '../common/json-guards.js';
import { withoutControlCharacters } from '../common/plain-text.js';

/**
 * Twilio Media Streams WebSocket messages (https://www.twilio.com/docs/voice/media-streams/websocket-messages),
 * parsed and validated at the edge so the rest of the bridge can trust its types. Counters and
 * timestamps arrive as strings; we keep them so and parse only what we use.
 */

export interface ConnectedFrame {
  event: 'connected';
  protocol?: string;
  version?: string;
}

export interface StartFrame {
  event: 'start';
  streamSid: string;
  start: {
    accountSid: string;
    callSid: string;
    streamSid: string;
    tracks: string[];
    customParameters: Record<string, string>;
    mediaFormat: { encoding: string; sampleRate: number; channels: number };
  };
}

export interface MediaFrame {
  event: 'media';
  streamSid: string;
  media: { track?: string; chunk?: string; timestamp?: string; payload: string };
}

export interface MarkFrame {
  event: 'mark';
  streamSid: string;
  mark: { name: string };
}

export interface DtmfFrame {
  event: 'dtmf';
  streamSid: string;
  dtmf: { track?: string; digit: string };
}

export interface StopFrame {
  event: 'stop';
  streamSid: string;
  stop?: { accountSid?: string; callSid?: string };
}

/** Twilio's inbound frame: 20 ms in practice (not a contract: durations come from byte counts). */
export const TWILIO_FRAME_MS = 20;

export type TwilioInboundFrame =
  ConnectedFrame | StartFrame | MediaFrame | MarkFrame | DtmfFrame | StopFrame;

export type FrameParseResult =
  { ok: true; frame: TwilioInboundFrame } | { ok: false; reason: string };

const SID = /^[A-Za-z0-9_-]{1,64}$/;

const isNonEmptyString = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0;
const isOptionalString = (value: unknown): boolean => value === undefined || isString(value);

const fail = (reason: string): FrameParseResult => ({ ok: false, reason });

/** Parses one text frame from Twilio; never throws. */
export function parseTwilioFrame(text: string): FrameParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('not JSON');
  }
  if (!isObject(value)) return fail('not a JSON object');
  const event = value.event;
  switch (event) {
    case 'connected':
      return {
        ok: true,
        frame: { event, protocol: str(value.protocol), version: str(value.version) },
      };
    case 'start':
      return parseStart(value);
    case 'media':
      return parseMedia(value);
    case 'mark': {
      const mark = value.mark;
      if (!isNonEmptyString(value.streamSid)) return fail('mark without streamSid');
      if (!isObject(mark) || !isString(mark.name)) return fail('mark without mark.name');
      return { ok: true, frame: { event, streamSid: value.streamSid, mark: { name: mark.name } } };
    }
    case 'dtmf': {
      const dtmf = value.dtmf;
      if (!isNonEmptyString(value.streamSid)) return fail('dtmf without streamSid');
      if (!isObject(dtmf) || !isString(dtmf.digit) || !/^[0-9*#A-D]$/.test(dtmf.digit)) {
        return fail('dtmf without a valid dtmf.digit');
      }
      return {
        ok: true,
        frame: {
          event,
          streamSid: value.streamSid,
          dtmf: { track: str(dtmf.track), digit: dtmf.digit },
        },
      };
    }
    case 'stop': {
      if (!isNonEmptyString(value.streamSid)) return fail('stop without streamSid');
      const stop = isObject(value.stop)
        ? { accountSid: str(value.stop.accountSid), callSid: str(value.stop.callSid) }
        : undefined;
      return { ok: true, frame: { event, streamSid: value.streamSid, stop } };
    }
    default:
      return fail(`unknown event ${JSON.stringify(event)?.slice(0, 40) ?? 'undefined'}`);
  }
}

function str(value: unknown): string | undefined {
  return isString(value) ? value : undefined;
}

/**
 * Parses one text message from Twilio, as the socket delivered it (bytes). A `media` frame in
 * the plain shape Twilio sends (ASCII, no whitespace, no escapes, only the known keys, each
 * once, in any order) is read straight from the bytes; anything else, including every other
 * event and every frame the fast path is unsure of, goes to the strict `parseTwilioFrame`. The
 * fast path accepts nothing the strict parser would refuse, and returns what it would return
 * (media-stream.property.spec.ts checks both on random and mangled frames). Never throws.
 */
export function parseTwilioMessage(bytes: Buffer): FrameParseResult {
  return parseMediaFast(bytes) ?? parseTwilioFrame(bytes.toString('utf8'));
}

// Keys the fast path knows, as bit flags (a key seen twice sends the frame to JSON.parse, which
// keeps the last value).
const EVENT = 1;
const SEQUENCE_NUMBER = 2;
const STREAM_SID = 4;
const MEDIA = 8;
const TRACK = 16;
const CHUNK = 32;
const TIMESTAMP = 64;
const PAYLOAD = 128;

/** Which known key bytes[start, end) spells (0 for none), at the top level or inside `media`. */
function keyAt(bytes: Buffer, start: number, end: number, nested: boolean): number {
  if (nested) {
    if (spells(bytes, start, end, 'payload')) return PAYLOAD;
    if (spells(bytes, start, end, 'track')) return TRACK;
    if (spells(bytes, start, end, 'chunk')) return CHUNK;
    if (spells(bytes, start, end, 'timestamp')) return TIMESTAMP;
    return 0;
  }
  if (spells(bytes, start, end, 'event')) return EVENT;
  if (spells(bytes, start, end, 'sequenceNumber')) return SEQUENCE_NUMBER;
  if (spells(bytes, start, end, 'streamSid')) return STREAM_SID;
  if (spells(bytes, start, end, 'media')) return MEDIA;
  return 0;
}

/**
 * The fast path of parseTwilioMessage: a MediaFrame, or undefined to let the strict parser
 * decide. Exported for its property tests and the bench.
 */
export function parseMediaFast(bytes: Buffer): FrameParseResult | undefined {
  const n = bytes.length;
  if (n < 2 || bytes[0] !== OPEN_BRACE || bytes[n - 1] !== CLOSE_BRACE) return undefined;
  let seen = 0;
  let event = -1;
  let streamSid = -1;
  let streamSidEnd = -1;
  let track = -1;
  let chunk = -1;
  let timestamp = -1;
  let payload = -1;
  let payloadEnd = -1;
  let nested = false;
  let i = 1;
  for (;;) {
    const keyEnd = plainStringEnd(bytes, i);
    if (keyEnd < 0 || bytes[keyEnd] !== COLON) return undefined;
    const key = keyAt(bytes, i + 1, keyEnd - 1, nested);
    if (key === 0 || (seen & key) !== 0) return undefined;
    seen |= key;
    const value = keyEnd + 1;
    if (key === MEDIA) {
      if (bytes[value] !== OPEN_BRACE) return undefined;
      nested = true;
      i = value + 1;
      continue;
    }
    const valueEnd = key === PAYLOAD ? base64StringEnd(bytes, value) : plainStringEnd(bytes, value);
    if (valueEnd < 0) return undefined;
    switch (key) {
      case EVENT:
        // Any other event is for the strict parser; say so before reading the rest.
        if (!spells(bytes, value, valueEnd, '"media"')) return undefined;
        event = value;
        break;
      case STREAM_SID:
        streamSid = value + 1;
        streamSidEnd = valueEnd - 1;
        break;
      case TRACK:
        track = value;
        break;
      case CHUNK:
        chunk = value;
        break;
      case TIMESTAMP:
        timestamp = value;
        break;
      case PAYLOAD:
        payload = value + 1;
        payloadEnd = valueEnd - 1;
        break;
    }
    i = valueEnd;
    if (nested && bytes[i] === CLOSE_BRACE) {
      nested = false;
      i++;
    }
    if (bytes[i] === COMMA) i++;
    else if (i === n - 1 && !nested) break;
    else return undefined;
  }
  // Only the plain success case; anything to refuse is refused by the strict parser, with its
  // reason.
  if (event < 0 || streamSidEnd <= streamSid || payload < 0) return undefined;
  return {
    ok: true,
    frame: {
      event: 'media',
      streamSid: textAt(bytes, streamSid, streamSidEnd),
      media: {
        track: stringAt(bytes, track),
        chunk: stringAt(bytes, chunk),
        timestamp: stringAt(bytes, timestamp),
        payload: textAt(bytes, payload, payloadEnd),
      },
    },
  };
}

/** The plain string value that opens at `start` (checked by plainStringEnd), if present. */
function stringAt(bytes: Buffer, start: number): string | undefined {
  return start < 0 ? undefined : textAt(bytes, start + 1, bytes.indexOf(QUOTE, start + 1));
}

function parseMedia(value: Json): FrameParseResult {
  const media = value.media;
  if (!isNonEmptyString(value.streamSid)) return fail('media without streamSid');
  if (!isObject(media) || !isString(media.payload)) return fail('media without media.payload');
  if (!isBase64(media.payload)) return fail('media payload is not valid base64');
  if (
    !isOptionalString(media.track) ||
    !isOptionalString(media.chunk) ||
    !isOptionalString(media.timestamp)
  ) {
    return fail('media with malformed track/chunk/timestamp');
  }
  return {
    ok: true,
    frame: {
      event: 'media',
      streamSid: value.streamSid,
      media: {
        track: str(media.track),
        chunk: str(media.chunk),
        timestamp: str(media.timestamp),
        payload: media.payload,
      },
    },
  };
}

function parseStart(value: Json): FrameParseResult {
  const start = value.start;
  if (!isObject(start)) return fail('start without start object');
  const streamSid = isNonEmptyString(value.streamSid) ? value.streamSid : start.streamSid;
  // The streamSid is echoed into every frame we send back, so it must be a plain token.
  if (!isNonEmptyString(streamSid) || !SID.test(streamSid))
    return fail('start without a valid streamSid');
  if (!isNonEmptyString(start.callSid)) return fail('start without start.callSid');
  if (!isString(start.accountSid)) return fail('start without start.accountSid');
  const customParameters: Record<string, string> = {};
  if (start.customParameters !== undefined) {
    if (!isObject(start.customParameters)) return fail('start.customParameters is not an object');
    for (const [name, param] of Object.entries(start.customParameters)) {
      // Parameters are stored (the call's context, /api/calls) and logged: no control characters
      // in either names or values, stripped before anything reads them.
      const key = withoutControlCharacters(name);
      if (!isString(param)) return fail(`start.customParameters.${key} is not a string`);
      if (key !== '' && !Object.hasOwn(customParameters, key)) {
        customParameters[key] = withoutControlCharacters(param);
      }
    }
  }
  const format = isObject(start.mediaFormat) ? start.mediaFormat : {};
  const mediaFormat = {
    encoding: str(format.encoding) ?? 'audio/x-mulaw',
    sampleRate: typeof format.sampleRate === 'number' ? format.sampleRate : 8000,
    channels: typeof format.channels === 'number' ? format.channels : 1,
  };
  if (
    mediaFormat.encoding !== 'audio/x-mulaw' ||
    mediaFormat.sampleRate !== 8000 ||
    mediaFormat.channels !== 1
  ) {
    return fail(
      `unsupported media format ${mediaFormat.encoding}/${mediaFormat.sampleRate}/${mediaFormat.channels}`,
    );
  }
  const tracks = Array.isArray(start.tracks) ? start.tracks.filter(isString) : ['inbound'];
  return {
    ok: true,
    frame: {
      event: 'start',
      streamSid,
      start: {
        accountSid: start.accountSid,
        callSid: start.callSid,
        streamSid,
        tracks,
        customParameters,
        mediaFormat,
      },
    },
  };
}

/** Builders for the three messages Twilio accepts from us. Strings are built directly (this is
 * the hot path, one per 20 ms per call); `streamSid` and `payload` are validated before use, so
 * neither can carry a quote. */
export const twilioOutbound = {
  media: (streamSid: string, payloadBase64: string): string =>
    `{"event":"media","streamSid":"${streamSid}","media":{"payload":"${payloadBase64}"}}`,
  mark: (streamSid: string, name: string): string =>
    `{"event":"mark","streamSid":"${streamSid}","mark":{"name":"${name}"}}`,
  clear: (streamSid: string): string => `{"event":"clear","streamSid":"${streamSid}"}`,
};
