/** Type guards for validating parsed JSON at the edges (Twilio frames, Realtime events). */

export type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const isString = (value: unknown): value is string => typeof value === 'string';

/** A non-empty string field of a peer's object, cut to a length fit for a log line or a label. */
export const shortText = (value: unknown): string | undefined =>
  isString(value) && value.length > 0 ? value.slice(0, 200) : undefined;

/** 1 for the 64 characters of the standard base64 alphabet (char codes below 128). */
const BASE64_ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') {
  BASE64_ALPHABET[c.charCodeAt(0)] = 1;
}
const EQUALS = 0x3d;

/**
 * Standard, padded base64: what both Twilio and the Realtime API send for audio. A loop over the
 * characters rather than a regex: V8's regex engine backtracks on a repeated group and overflows
 * the stack on a few million characters (a 6 MB audio delta did), while this is linear and flat.
 */
export function isBase64(value: string): boolean {
  const length = value.length;
  if (length % 4 !== 0) return false;
  let end = length;
  if (end > 0 && value.charCodeAt(end - 1) === EQUALS) end--;
  if (end > 0 && value.charCodeAt(end - 1) === EQUALS) end--;
  // Padding fills the last quartet only: "ab==" or "abc=", never "a===".
  if (length - end > 0 && end % 4 < 2) return false;
  for (let i = 0; i < end; i++) {
    const code = value.charCodeAt(i);
    if (code >= 128 || BASE64_ALPHABET[code] !== 1) return false;
  }
  return true;
}

/** Decoded size of a padded base64 string, without decoding it. */
export function base64DecodedLength(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}
