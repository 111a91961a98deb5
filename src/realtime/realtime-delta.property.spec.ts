import fc from 'fast-check';
import { bytesAround } from '../../test/support/fast-path-inputs.js';
import { parseAudioDeltaFast, parseRealtimeMessage } from './realtime-delta.fast.js';
import { MAX_AUDIO_DELTA_CHARS, parseRealtimeEvent } from './realtime.events.js';

/** Mostly what OpenAI sends, sometimes something else. */
const usually = <T>(common: fc.Arbitrary<T>, ...rare: fc.Arbitrary<T>[]) =>
  fc.oneof({ weight: 4 * rare.length, arbitrary: common }, ...rare);

const id = (prefix: string) =>
  usually<unknown>(
    fc.stringMatching(new RegExp(`^${prefix}_[A-Za-z0-9]{20}$`)),
    fc.string({ maxLength: 6 }),
    fc.string({ unit: 'grapheme', maxLength: 4 }),
    fc.integer(),
    fc.constant(null),
  );
const index = usually<unknown>(
  fc.nat({ max: 3 }),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 3 }),
  fc.constant(null),
);
const audio = usually<unknown>(
  fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  fc.base64String({ maxLength: 40 }),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('A===', '====', '=AAA', 'AA=A', 'AAAAA', 'AAAA=', 'AA==AAAA', '', 7),
);

/** A key and the JSON text of its value. */
type Entry = [string, string];

const objectText = (entries: Entry[]) =>
  `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;

/**
 * An audio delta as OpenAI sends it, or close to it: keys in any order, some missing, some
 * repeated, an unknown one, values of the wrong type, numbers written in other JSON forms.
 */
const deltaText = fc
  .record({
    type: usually(
      fc.constant('response.output_audio.delta'),
      fc.constantFrom('response.output_audio.done', 'response.audio.delta', ''),
    ),
    eventId: id('event'),
    responseId: id('resp'),
    itemId: id('item'),
    outputIndex: index,
    contentIndex: index,
    delta: audio,
    extra: fc.constantFrom('extra', 'Delta', 'item'),
    numberForm: usually(fc.constant(''), fc.constantFrom('.0', 'e0', ' ')),
  })
  .chain((f) => {
    const num = (value: unknown) =>
      typeof value === 'number' ? `${JSON.stringify(value)}${f.numberForm}` : JSON.stringify(value);
    const entries: Entry[] = [
      ['type', JSON.stringify(f.type)],
      ['event_id', JSON.stringify(f.eventId)],
      ['response_id', JSON.stringify(f.responseId)],
      ['item_id', JSON.stringify(f.itemId)],
      ['output_index', num(f.outputIndex)],
      ['content_index', num(f.contentIndex)],
      ['delta', JSON.stringify(f.delta)],
    ];
    return fc
      .tuple(
        usually(
          fc.shuffledSubarray(entries, { minLength: entries.length }),
          fc.shuffledSubarray(entries),
        ),
        usually(fc.constant<Entry[]>([]), fc.constant<Entry[]>([[f.extra, '"x"']])),
        usually(
          fc.constant<Entry[]>([]),
          fc
            .tuple(fc.constantFrom(...entries), fc.constantFrom('"AAAA"', '"x"', '0', '1'))
            .map(([[key], value]): Entry[] => [[key, value]]),
        ),
      )
      .map(([kept, extras, repeated]) => objectText([...kept, ...extras, ...repeated]));
  });

const mangled = fc
  .tuple(
    deltaText,
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
        '-',
        '0',
        '\\/',
        '\\u0041',
        '\u00e9',
      ),
      fc.string({ unit: 'binary', maxLength: 3 }),
    ),
  )
  .map(([text, at, length, insert]) => {
    const position = at % (text.length + 1);
    return text.slice(0, position) + insert + text.slice(position + length);
  });

const agrees = (bytes: Buffer) => {
  const strict = parseRealtimeEvent(bytes.toString('utf8'));
  expect(parseRealtimeMessage(bytes)).toEqual(strict);
  const fast = parseAudioDeltaFast(bytes);
  // The fast path only ever says yes, and only where the strict parser says the same.
  if (fast !== undefined) expect(fast).toEqual(strict);
  return fast !== undefined;
};

describe('parseRealtimeMessage (the audio delta fast path, property-based)', () => {
  it('takes every well-formed delta, in OpenAI key order or any other, as the strict parser does', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 4800 }),
        fc.nat({ max: 6 }),
        fc.nat({ max: 3 }),
        (bytes, order, contentIndex) => {
          const fields = [
            '"event_id":"event_CJ8lAVTJX0a2SpSk"',
            '"response_id":"resp_CJ8l9aQ2zEbyxWgS"',
            '"item_id":"item_CJ8l9sx0UohqXtPX"',
            '"output_index":0',
            `"content_index":${contentIndex}`,
            `"delta":"${Buffer.from(bytes).toString('base64')}"`,
          ];
          fields.splice(order, 0, '"type":"response.output_audio.delta"');
          expect(agrees(Buffer.from(`{${fields.join(',')}}`))).toBe(true);
        },
      ),
    );
  });

  it('agrees with the strict parser on near-OpenAI deltas', () => {
    let fast = 0;
    let accepted = 0;
    fc.assert(
      fc.property(deltaText, (text) => {
        if (agrees(Buffer.from(text))) fast++;
        if (parseRealtimeEvent(text).ok) accepted++;
      }),
      { numRuns: 5000 },
    );
    // The generator must exercise both paths, or agreement proves little.
    expect(fast).toBeGreaterThan(400);
    expect(accepted - fast).toBeGreaterThan(100);
  });

  it('agrees with the strict parser on mangled deltas', () => {
    fc.assert(
      fc.property(mangled, (text) => {
        agrees(Buffer.from(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with the strict parser on arbitrary bytes, valid UTF-8 or not', () => {
    fc.assert(
      fc.property(bytesAround(deltaText), (bytes) => {
        agrees(bytes);
      }),
      { numRuns: 3000 },
    );
  });

  it('leaves an oversized delta to the strict parser, which refuses it', () => {
    const delta = 'A'.repeat(MAX_AUDIO_DELTA_CHARS + 4);
    const bytes = Buffer.from(
      `{"type":"response.output_audio.delta","response_id":"r","item_id":"i","delta":"${delta}"}`,
    );
    expect(parseAudioDeltaFast(bytes)).toBeUndefined();
    expect(parseRealtimeMessage(bytes).ok).toBe(false);
  });
});
