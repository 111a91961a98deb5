import type { ByteRange } from './recording-store.js';

/** The longest Range header looked at; anything longer is ignored (the whole file is sent). */
export const MAX_RANGE_HEADER_LENGTH = 100;

/**
 * An HTTP `Range` header (RFC 9110 section 14) against a resource of `size` bytes: one range,
 * `unsatisfiable` (416), or undefined for the whole resource. A header that is not a single
 * well-formed byte range is ignored, as the RFC allows, so the whole resource is sent.
 */
export function parseByteRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined || header.length > MAX_RANGE_HEADER_LENGTH) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    // A suffix: the last N bytes.
    const length = Number(match[2]);
    if (length === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? Number.MAX_SAFE_INTEGER : Number(match[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}
