import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { MAX_SESSIONS, SESSION_COOKIE, SESSION_TTL_S } from './console.constants.js';

const hash = (value: string) => createHash('sha256').update(value).digest('base64url');

/**
 * Console sessions: the API token is exchanged once for a random session id carried in an
 * HttpOnly cookie (EventSource cannot send an Authorization header), so the token itself never
 * sits in the browser. Only a hash of each id is kept, sessions expire, and there are at most
 * MAX_SESSIONS of them. Logins are throttled apart (LoginThrottle).
 */
@Injectable()
export class ConsoleSessions {
  /** hash(session id) -> expiry (ms); Map order is creation order, oldest first. */
  private readonly sessions = new Map<string, number>();

  /** A new session id for the cookie. */
  create(now = Date.now()): string {
    this.prune(now);
    while (this.sessions.size >= MAX_SESSIONS) {
      this.sessions.delete(this.sessions.keys().next().value!);
    }
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(hash(id), now + SESSION_TTL_S * 1000);
    return id;
  }

  isValid(id: string | undefined, now = Date.now()): boolean {
    if (!id) return false;
    const key = hash(id);
    const expiresAt = this.sessions.get(key);
    if (expiresAt === undefined) return false;
    if (expiresAt > now) return true;
    this.sessions.delete(key);
    return false;
  }

  /**
   * How events and records name a session's operator: a short digest of its id, never the id
   * (the cookie's value is a credential).
   */
  label(id: string): string {
    return `console:${hash(id).slice(0, 12)}`;
  }

  /** The live session a request's `Cookie` header carries, if any of its session cookies is one. */
  sessionIn(cookieHeader: string | undefined, now = Date.now()): string | undefined {
    return cookieValues(cookieHeader, SESSION_COOKIE).find((id) => this.isValid(id, now));
  }

  revoke(id: string | undefined): void {
    if (id) this.sessions.delete(hash(id));
  }

  get size(): number {
    return this.sessions.size;
  }

  private prune(now: number): void {
    for (const [key, expiresAt] of this.sessions) if (expiresAt <= now) this.sessions.delete(key);
  }
}

/** How many cookies of one name are looked at: a browser sends one or two. */
export const MAX_SAME_NAME_COOKIES = 4;

/**
 * The values of a cookie in a `Cookie` header, at most MAX_SAME_NAME_COOKIES. A browser sends
 * every cookie of the name whose domain and path match, in no order a server may rely on
 * (RFC 6265 section 5.4), so a cookie planted from a sibling domain comes before ours.
 */
export function cookieValues(header: string | undefined, name: string): string[] {
  const values: string[] = [];
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
    if (values.length === MAX_SAME_NAME_COOKIES) break;
  }
  return values;
}
