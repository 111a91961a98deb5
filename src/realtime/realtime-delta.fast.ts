import {
  base64StringEnd,
  CLOSE_BRACE,
  COLON,
  COMMA,
  OPEN_BRACE,
  plainStringEnd,
  spells,
  textAt,
} from '../common/json-bytes.js';
import {
  MAX_AUDIO_DELTA_CHARS,
  parseRealtimeEvent,
  type RealtimeEventParseResult,
} from './realtime.events.js';

/**
 * Parses one text message from the Realtime socket, as the socket delivered it (bytes). An
 * `response.output_audio.delta` in the plain shape OpenAI sends (ASCII, no whitespace, no
 * escapes, only the known keys, each once, in any order, indexes as plain integers) is read
 * straight from the bytes: it is the most frequent event, and most of its size is the base64
 * audio that would otherwise be decoded from UTF-8, scanned by `JSON.parse` and copied again.
 * Anything else goes to the strict `parseRealtimeEvent`. The fast path accepts nothing the
 * strict parser would refuse and returns what it would return (realtime-delta.property.spec.ts
 * checks both on random and mangled events). Never throws.
 */
export function parseRealtimeMessage(bytes: Buffer): RealtimeEventParseResult {
  return parseAudioDeltaFast(bytes) ?? parseRealtimeEvent(bytes.toString('utf8'));
}

// Keys of an audio delta, as bit flags (a key seen twice goes to JSON.parse, which keeps the last).
const TYPE = 1;
const EVENT_ID = 2;
const RESPONSE_ID = 4;
const ITEM_ID = 8;
const OUTPUT_INDEX = 16;
const CONTENT_INDEX = 32;
const DELTA = 64;

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** Indexes beyond 15 digits would lose precision as numbers; the strict parser takes those. */
const MAX_INDEX_DIGITS = 15;

/** Which key bytes[start, end) spells (0 for none); the seven keys differ in length. */
function keyAt(bytes: Buffer, start: number, end: number): number {
  switch (end - start) {
    case 5:
      return spells(bytes, start, end, 'delta') ? DELTA : 0;
    case 4:
      return spells(bytes, start, end, 'type') ? TYPE : 0;
    case 8:
      return spells(bytes, start, end, 'event_id') ? EVENT_ID : 0;
    case 11:
      return spells(bytes, start, end, 'response_id') ? RESPONSE_ID : 0;
    case 7:
      return spells(bytes, start, end, 'item_id') ? ITEM_ID : 0;
    case 12:
      return spells(bytes, start, end, 'output_index') ? OUTPUT_INDEX : 0;
    case 13:
      return spells(bytes, start, end, 'content_index') ? CONTENT_INDEX : 0;
    default:
      return 0;
  }
}

/**
 * End of the plain non-negative integer (JSON's form: no sign, no leading zero, no fraction or
 * exponent) that starts at `start`, or -1.
 */
function plainIntegerEnd(bytes: Buffer, start: number): number {
  let i = start;
  while (i < bytes.length && bytes[i] >= DIGIT_0 && bytes[i] <= DIGIT_9) i++;
  const digits = i - start;
  if (digits === 0 || digits > MAX_INDEX_DIGITS) return -1;
  if (digits > 1 && bytes[start] === DIGIT_0) return -1;
  return i;
}

/**
 * The fast path of parseRealtimeMessage: an audio delta, or undefined to let the strict parser
 * decide. Exported for its property tests and the bench.
 */
export function parseAudioDeltaFast(bytes: Buffer): RealtimeEventParseResult | undefined {
  const n = bytes.length;
  if (n < 2 || bytes[0] !== OPEN_BRACE || bytes[n - 1] !== CLOSE_BRACE) return undefined;
  let seen = 0;
  let responseId = -1;
  let responseIdEnd = -1;
  let itemId = -1;
  let itemIdEnd = -1;
  let delta = -1;
  let deltaEnd = -1;
  let contentIndex = 0;
  let i = 1;
  for (;;) {
    const keyEnd = plainStringEnd(bytes, i);
    if (keyEnd < 0 || bytes[keyEnd] !== COLON) return undefined;
    const key = keyAt(bytes, i + 1, keyEnd - 1);
    if (key === 0 || (seen & key) !== 0) return undefined;
    seen |= key;
    const value = keyEnd + 1;
    let valueEnd: number;
    switch (key) {
      case DELTA:
        valueEnd = base64StringEnd(bytes, value);
        // An oversized delta is refused by the strict parser, with its reason.
        if (valueEnd - value - 2 > MAX_AUDIO_DELTA_CHARS) return undefined;
        delta = value + 1;
        deltaEnd = valueEnd - 1;
        break;
      case OUTPUT_INDEX:
      case CONTENT_INDEX:
        valueEnd = plainIntegerEnd(bytes, value);
        if (key === CONTENT_INDEX && valueEnd > 0) {
          contentIndex = Number(textAt(bytes, value, valueEnd));
        }
        break;
      default:
        valueEnd = plainStringEnd(bytes, value);
        if (valueEnd < 0) return undefined;
        if (key === TYPE && !spells(bytes, value, valueEnd, '"response.output_audio.delta"')) {
          // Any other event is for the strict parser; say so before reading the rest.
          return undefined;
        }
        if (key === RESPONSE_ID) {
          responseId = value + 1;
          responseIdEnd = valueEnd - 1;
        } else if (key === ITEM_ID) {
          itemId = value + 1;
          itemIdEnd = valueEnd - 1;
        }
    }
    if (valueEnd < 0) return undefined;
    i = valueEnd;
    if (bytes[i] === COMMA) i++;
    else if (i === n - 1) break;
    else return undefined;
  }
  if ((seen & TYPE) === 0 || responseId < 0 || itemId < 0 || delta < 0) return undefined;
  return {
    ok: true,
    event: {
      type: 'response.output_audio.delta',
      response_id: textAt(bytes, responseId, responseIdEnd),
      item_id: textAt(bytes, itemId, itemIdEnd),
      content_index: contentIndex,
      delta: textAt(bytes, delta, deltaEnd),
    },
  };
}
