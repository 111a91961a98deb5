import fc from 'fast-check';
import { bytesAround } from '../../test/support/fast-path-inputs.js';
import { parseMediaFast, parseTwilioMessage } from './media-stream.fast.js';
import { parseTwilioFrame, twilioOutbound } from './media-stream.messages.js';

const frameLike = fc.record(
  {
    event: fc.oneof(
      fc.constantFrom('connected', 'start', 'media', 'mark', 'dtmf', 'stop'),
      fc.string(),
    ),
    streamSid: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
    media: fc.oneof(
      fc.record({ payload: fc.oneof(fc.base64String(), fc.string(), fc.integer()) }),
      fc.anything(),
    ),
    mark: fc.anything(),
    dtmf: fc.anything(),
    start: fc.anything(),
    stop: fc.anything(),
  },
  { requiredKeys: ['event'] },
);

describe('parseTwilioFrame (property-based)', () => {
  it('never throws on arbitrary text and always says why it refuses', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (text) => {
        const result = parseTwilioFrame(text);
        if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary JSON values, and whatever it accepts is well formed', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), frameLike), (value) => {
        const result = parseTwilioFrame(JSON.stringify(value) ?? 'undefined');
        if (!result.ok) return;
        const frame = result.frame;
        if (frame.event === 'media') {
          // Valid base64: its length says exactly how many bytes it carries.
          const { payload } = frame.media;
          const padding = payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0;
          expect(Buffer.from(payload, 'base64').length).toBe((payload.length / 4) * 3 - padding);
        }
        if (frame.event !== 'connected') expect(typeof frame.streamSid).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every well-formed media frame and returns its payload unchanged', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.stringMatching(/^MZ[0-9a-f]{32}$/),
        (bytes, streamSid) => {
          const payload = Buffer.from(bytes).toString('base64');
          const result = parseTwilioFrame(
            JSON.stringify({
              event: 'media',
              sequenceNumber: '3',
              streamSid,
              media: { track: 'inbound', chunk: '1', timestamp: '20', payload },
            }),
          );
          expect(result.ok && result.frame.event === 'media' && result.frame.media.payload).toBe(
            payload,
          );
        },
      ),
    );
  });

  it('builds outbound frames that parse back to what was put in', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const payload = Buffer.from(bytes).toString('base64');
        expect(JSON.parse(twilioOutbound.media('MZ1', payload))).toEqual({
          event: 'media',
          streamSid: 'MZ1',
          media: { payload },
        });
      }),
    );
  });
});

// --- the fast path for media frames -----------------------------------------------------

/** Mostly what Twilio sends, sometimes something else. */
const usually = <T>(common: fc.Arbitrary<T>, ...rare: fc.Arbitrary<T>[]) =>
  fc.oneof({ weight: 4 * rare.length, arbitrary: common }, ...rare);
const sid = usually(fc.stringMatching(/^MZ[0-9a-f]{32}$/), fc.string({ maxLength: 8 }));
const counter = usually<unknown>(
  fc.nat({ max: 100_000 }).map(String),
  fc.string({ maxLength: 4 }),
  fc.integer(),
);
const payload = usually(
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  fc.base64String({ maxLength: 40 }),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  // Padding at the edges of what base64 allows.
  fc.constantFrom('A===', '====', '=AAA', 'AA=A', 'AAAAA', 'AAAA=', 'AA==AAAA', 'AAA=', 'AA=='),
);

/** A key and the JSON text of its value. */
type Entry = [string, string];

/** JSON text of an object whose entries come in the given order (duplicates allowed). */
const objectText = (entries: Entry[]) =>
  `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;

/**
 * A media frame as Twilio sends it, or close to it: keys in any order, some missing, some
 * repeated, an unknown one, values of the wrong type, non-ASCII and escaped characters.
 */
const mediaFrameText = fc
  .record({
    event: usually(fc.constant('media'), fc.constantFrom('mark', 'Media', 'media ', '')),
    sequenceNumber: counter,
    streamSid: sid,
    track: usually(fc.constantFrom('inbound', 'outbound'), fc.constantFrom('in"bound', 'ïnbound')),
    chunk: counter,
    timestamp: counter,
    payload,
    extraTop: fc.constantFrom('extra', 'Event', 'media2'),
    extraMedia: fc.constantFrom('extra', 'Payload', 'event'),
  })
  .chain((f) => {
    const top: Entry[] = [
      ['event', JSON.stringify(f.event)],
      ['sequenceNumber', JSON.stringify(f.sequenceNumber)],
      ['streamSid', JSON.stringify(f.streamSid)],
    ];
    const inner: Entry[] = [
      ['track', JSON.stringify(f.track)],
      ['chunk', JSON.stringify(f.chunk)],
      ['timestamp', JSON.stringify(f.timestamp)],
      ['payload', JSON.stringify(f.payload)],
    ];
    const variant = (entries: Entry[], extra: Entry) =>
      fc
        .tuple(
          usually(
            fc.shuffledSubarray(entries, { minLength: entries.length }),
            fc.shuffledSubarray(entries),
          ),
          usually(fc.constant<Entry[]>([]), fc.constant<Entry[]>([extra])),
          // A key given twice, with another value: JSON.parse keeps the last one.
          usually(
            fc.constant<Entry[]>([]),
            fc
              .tuple(fc.constantFrom(...entries), fc.constantFrom('"AAAA"', '"mark"', '"MZ1"', '7'))
              .map(([[key], value]): Entry[] => [[key, value]]),
          ),
        )
        .map(([kept, extras, repeated]) => [...kept, ...extras, ...repeated]);
    return fc
      .tuple(variant(top, [f.extraTop, '"x"']), variant(inner, [f.extraMedia, '1']), fc.nat())
      .map(([topEntries, innerEntries, at]) => {
        const entries = [...topEntries];
        entries.splice(at % (entries.length + 1), 0, ['media', objectText(innerEntries)]);
        // Now and then the media object twice, the second without track/chunk/timestamp.
        if (at % 16 === 0) entries.push(['media', '{"payload":"AAAA"}']);
        return objectText(entries);
      });
  });

/** Small edits: what a broken or hostile peer might send instead of a well-formed frame. */
const mangled = fc
  .tuple(
    mediaFrameText,
    fc.nat(),
    fc.nat({ max: 3 }),
    fc.oneof(
      fc.constantFrom(
        ' ',
        '"',
        '\\',
        '{',
        '}',
        ',',
        ':',
        '=',
        '\\/',
        '\\u0041',
        '\u00e9',
        '\u0001',
      ),
      fc.string({ unit: 'binary', maxLength: 3 }),
    ),
  )
  .map(([text, at, length, insert]) => {
    const position = at % (text.length + 1);
    return text.slice(0, position) + insert + text.slice(position + length);
  });

describe('parseTwilioMessage (the media fast path, property-based)', () => {
  const agrees = (bytes: Buffer) => {
    const strict = parseTwilioFrame(bytes.toString('utf8'));
    expect(parseTwilioMessage(bytes)).toEqual(strict);
    const fast = parseMediaFast(bytes);
    // The fast path only ever says yes, and only where the strict parser says the same.
    if (fast !== undefined) expect(fast).toEqual(strict);
    return fast !== undefined;
  };

  it('takes every well-formed media frame, whatever its key order, as the strict parser does', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.stringMatching(/^MZ[0-9a-f]{32}$/),
        fc.nat({ max: 5 }),
        (audio, streamSid, order) => {
          const media = `"media":{"track":"inbound","chunk":"3","timestamp":"60","payload":"${Buffer.from(audio).toString('base64')}"}`;
          const fields = ['"event":"media"', '"sequenceNumber":"4"', `"streamSid":"${streamSid}"`];
          fields.splice(order % 4, 0, media);
          expect(agrees(Buffer.from(`{${fields.join(',')}}`))).toBe(true);
        },
      ),
    );
  });

  it('agrees with the strict parser on near-Twilio media frames', () => {
    let fast = 0;
    let accepted = 0;
    fc.assert(
      fc.property(mediaFrameText, (text) => {
        if (agrees(Buffer.from(text))) fast++;
        if (parseTwilioFrame(text).ok) accepted++;
      }),
      { numRuns: 5000 },
    );
    // The generator must exercise both paths, or agreement proves little.
    expect(fast).toBeGreaterThan(500);
    expect(accepted - fast).toBeGreaterThan(100);
  });

  it('agrees with the strict parser on mangled media frames', () => {
    fc.assert(
      fc.property(mangled, (text) => {
        agrees(Buffer.from(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with the strict parser on arbitrary bytes, valid UTF-8 or not', () => {
    fc.assert(
      fc.property(bytesAround(mediaFrameText), (bytes) => {
        agrees(bytes);
      }),
      { numRuns: 3000 },
    );
  });
});
