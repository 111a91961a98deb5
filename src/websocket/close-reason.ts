/** RFC 6455 allows 123 bytes of UTF-8 in a close frame's reason; `ws` throws a RangeError beyond. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * A close reason cut to what a close frame can carry, by bytes and never inside a character: a
 * reason cut by characters could still be over 123 bytes (multibyte text), and the RangeError
 * from `ws` would turn a polite close into an internal error.
 */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text, 'utf8') <= MAX_CLOSE_REASON_BYTES) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > MAX_CLOSE_REASON_BYTES) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}
