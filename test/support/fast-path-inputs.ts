import fc from 'fast-check';

/**
 * Inputs for a fast parser's agreement test: arbitrary bytes, or a near-valid `text` with one
 * byte replaced by a non-ASCII one (so also invalid UTF-8), the cases a socket can hand over.
 */
export function bytesAround(text: fc.Arbitrary<string>): fc.Arbitrary<Buffer> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    text.chain((sample) =>
      fc.tuple(fc.nat(), fc.integer({ min: 0x80, max: 0xff })).map(([at, byte]) => {
        const bytes = Buffer.from(sample);
        if (bytes.length > 0) bytes[at % bytes.length] = byte;
        return bytes;
      }),
    ),
  );
}
