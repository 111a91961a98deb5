import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { SessionStore } from '../directory/session-store.js';
import { MAX_SESSIONS, SESSION_COOKIE, SESSION_TTL_S } from './console.constants.js';

/** What a session lookup found: a live session, none, or no answer (the store is down). */
export type FoundSession =
  | { state: 'live'; token: string; key: string; expiresAt: number }
  | { state: 'none' }
  | { state: 'unavailable' };

/**
 * Console sessions: the API token is exchanged once for a random session token carried in an
 * HttpOnly cookie (EventSource cannot send an Authorization header), so the API token itself
 * never sits in the browser. Sessions live in the SessionStore chosen with the directory (this
 * process, or Redis shared by the cluster) under a keyed hash of the token, expire, and are at
 * most MAX_SESSIONS. Logins are throttled apart (LoginThrottle).
 */
@Injectable()
export class ConsoleSessions {
  constructor(private readonly store: SessionStore) {}

  /** A new session token for the cookie; undefined when the store cannot keep one now. */
  async create(now = Date.now()): Promise<string | undefined> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + SESSION_TTL_S * 1000;
    const stored = await this.store.add(this.store.keyOf(token), expiresAt, MAX_SESSIONS, now);
    return stored ? token : undefined;
  }

  /**
   * The live session among a request's session cookies (a browser may send several of the
   * name: cookieValues), with one lookup for all of them.
   */
  async find(cookieHeader: string | undefined, now = Date.now()): Promise<FoundSession> {
    const tokens = cookieValues(cookieHeader, SESSION_COOKIE);
    if (tokens.length === 0) return { state: 'none' };
    const keys = tokens.map((token) => this.store.keyOf(token));
    const expiries = await this.store.expiries(keys, now);
    if (expiries === undefined) return { state: 'unavailable' };
    const i = expiries.findIndex((expiresAt) => expiresAt !== undefined);
    if (i < 0) return { state: 'none' };
    return { state: 'live', token: tokens[i], key: keys[i], expiresAt: expiries[i]! };
  }

  /** The live session token a request's `Cookie` header carries, if any. */
  async sessionIn(cookieHeader: string | undefined, now = Date.now()): Promise<string | undefined> {
    const found = await this.find(cookieHeader, now);
    return found.state === 'live' ? found.token : undefined;
  }

  /**
   * Logout: ends every session the request's cookies name, everywhere. Needs no lookup, so it works while the store is down (RedisSessionStore keeps it).
   */
  async revoke(cookieHeader: string | undefined): Promise<void> {
    const tokens = cookieValues(cookieHeader, SESSION_COOKIE);
    await this.store.remove(tokens.map((token) => this.store.keyOf(token)));
  }

  /**
   * How events and records name a session's operator: a short digest of its key, never the
   * token (the cookie's value is a credential); the same on every instance of a cluster.
   */
  label(key: string): string {
    return `console:${key.slice(0, 12)}`;
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
