import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../config/secret.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The token of an `Authorization: Bearer <token>` header, or '' when there is none. The scheme
 * is case-insensitive (RFC 7235 section 2.1), so `bearer <token>` is the same header.
 */
export function bearerToken(authorization: string | undefined): string {
  return /^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '';
}

/** Compares in constant time whatever the lengths (both sides are hashed first). */
export function tokenMatches(given: string, expected: Secret): boolean {
  return timingSafeEqual(digest(given), digest(expected.reveal()));
}

export function bearerTokenMatches(authorization: string | undefined, expected: Secret): boolean {
  return tokenMatches(bearerToken(authorization), expected);
}
