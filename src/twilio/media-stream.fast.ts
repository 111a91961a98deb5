/**
 * The Twilio `media` fast path: the busiest inbound message (50 a second per call) read straight
 * from the socket's bytes instead of decoding the frame to a string and `JSON.parse`.
 *
 * Kept because it pays (issue 25's rule: at least 5 % of the service's CPU against the strict
 * parser in `npm run bench:compare`): a build parsing with the strict parser only cost 1.14x
 * (0.95-1.30) the CPU per call-second at 50 calls g711_ulaw, median of six paired rounds, so this
 * path saves about 12 % (docs/performance.md, issue 25; a noisy machine, and in-process it saves
 * ~1 us of ~2.3 us per frame, so confirm on a quiet one before relying on the figure).
 */
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
} from '../text/json-bytes.js';
import { parseTwilioFrame, type FrameParseResult } from './media-stream.messages.js';

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
