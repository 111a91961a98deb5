/**
 * Primitives for exact fast paths that read a busy message (a Twilio `media` frame) straight
 * from a socket's bytes instead of `JSON.parse`. Each accepts only JSON whose meaning is its
 * bytes (ASCII, no escapes, no whitespace) and says -1 otherwise, so that the caller can hand
 * the message to the strict parser instead.
 */

export const QUOTE = 0x22;
export const COLON = 0x3a;
export const COMMA = 0x2c;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
const BACKSLASH = 0x5c;
const EQUALS = 0x3d;

/** 1 for the 64 characters of the standard base64 alphabet. */
const BASE64_ALPHABET = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') {
  BASE64_ALPHABET[c.charCodeAt(0)] = 1;
}

/** Whether bytes[start, end) spell `name` (ASCII), without making a string of them. */
export function spells(bytes: Buffer, start: number, end: number, name: string): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) {
    if (bytes[start + i] !== name.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * End (the index after the closing quote) of the JSON string that opens at `start`, or -1 if it
 * holds anything whose JSON meaning is not its bytes: an escape, a control character (JSON.parse
 * refuses those), a non-ASCII byte (left to the UTF-8 decoder).
 */
export function plainStringEnd(bytes: Buffer, start: number): number {
  if (bytes[start] !== QUOTE) return -1;
  for (let i = start + 1; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH || c < 0x20 || c >= 0x80) return -1;
  }
  return -1;
}

/**
 * Like plainStringEnd, for a string that must also be padded base64: a multiple of 4 characters
 * of the standard alphabet, the last one or two of which may be `=`.
 */
export function base64StringEnd(bytes: Buffer, start: number): number {
  if (bytes[start] !== QUOTE) return -1;
  let i = start + 1;
  while (i < bytes.length && BASE64_ALPHABET[bytes[i]] === 1) i++;
  const dataEnd = i;
  while (i < bytes.length && bytes[i] === EQUALS && i - dataEnd < 2) i++;
  if (bytes[i] !== QUOTE || (i - start - 1) % 4 !== 0) return -1;
  return i + 1;
}

/** The ASCII text of bytes[start, end). */
export function textAt(bytes: Buffer, start: number, end: number): string {
  return bytes.toString('latin1', start, end);
}
