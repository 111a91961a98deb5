import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { SessionStore } from '../directory/session-store.js';
import {
  MAX_SESSIONS,
  SESSION_COOKIE,
  SESSION_RECHECK_MS,
  SESSION_TTL_S,
} from './console.constants.js';

/** What a session lookup found: a live session, none, or no answer (the store is down). */
export type FoundSession =
  | { state: 'live'; token: string; key: string; expiresAt: number }
  | { state: 'none' }
  | { state: 'unavailable' };

/** A session as checked afresh: `unknown` when the store cannot answer. */
export type SessionState = 'live' | 'ended' | 'unknown';

/** Closes one thing a session opened (an event stream, a listen socket), saying why. */
export type SessionCloser = (why: string) => void;

/** Why what a session opened is closed when the session ends (the listen socket's 1008 reason). */
export const SESSION_ENDED = 'session ended';

interface Opened {
  /** When the session expires, as last seen (kept for an outage: expiry needs no store). */
  expiresAt?: number;
  closers: Set<SessionCloser>;
}

/**
 * Console sessions: the API token is exchanged once for a random session token carried in an
 * HttpOnly cookie (EventSource cannot send an Authorization header), so the API token itself
 * never sits in the browser. Sessions live in the SessionStore chosen with the directory (this
 * process, or Redis shared by the cluster) under a keyed hash of the token, expire, and are at
 * most MAX_SESSIONS. Logins are throttled apart (LoginThrottle).
 *
 * What a session opened (the console's event streams, its listen sockets) is remembered here by
 * session, and closed when the session ends: at once for a logout on any instance (the store
 * reports it), and otherwise within SESSION_RECHECK_MS (its expiry, or an end whose message
 * was lost).
 */
@Injectable()
export class ConsoleSessions implements OnApplicationShutdown {
  /** Session key -> what it opened on this instance. */
  private readonly opened = new Map<string, Opened>();
  private recheck?: NodeJS.Timeout;

  constructor(private readonly store: SessionStore) {
    store.onEnded((key) => this.closeOpened(key));
  }

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
   * Logout: ends every session the request's cookies name, everywhere, and closes what they
   * opened. Needs no lookup, so it works while the store is down (RedisSessionStore keeps it).
   */
  async revoke(cookieHeader: string | undefined): Promise<void> {
    const tokens = cookieValues(cookieHeader, SESSION_COOKIE);
    await this.store.remove(tokens.map((token) => this.store.keyOf(token)));
  }

  /** The session a key names, checked afresh in the store (before a takeover, say). */
  async state(key: string, now = Date.now()): Promise<SessionState> {
    const [expiresAt] = (await this.store.expiries([key], now)) ?? [null];
    if (expiresAt === null) return this.expired(key, now) ? 'ended' : 'unknown';
    return expiresAt === undefined ? 'ended' : 'live';
  }

  /**
   * How events and records name a session's operator: a short digest of its key, never the
   * token (the cookie's value is a credential); the same on every instance of a cluster.
   */
  label(key: string): string {
    return `console:${key.slice(0, 12)}`;
  }

  /**
   * Remembers that session `key` opened something here, closed by `close` when the session
   * ends. Returns what forgets it (the thing closed by itself).
   */
  track(key: string, close: SessionCloser, expiresAt?: number): () => void {
    let opened = this.opened.get(key);
    if (!opened) this.opened.set(key, (opened = { expiresAt, closers: new Set() }));
    opened.expiresAt ??= expiresAt;
    opened.closers.add(close);
    this.recheck ??= setInterval(() => void this.recheckOpened(), SESSION_RECHECK_MS);
    this.recheck.unref();
    return () => {
      const current = this.opened.get(key);
      if (!current?.closers.delete(close) || current.closers.size > 0) return;
      this.opened.delete(key);
      this.stopRecheckWhenIdle();
    };
  }

  /** Sessions whose things are open here (tests). */
  get openSessions(): number {
    return this.opened.size;
  }

  onApplicationShutdown(): void {
    clearInterval(this.recheck);
    this.recheck = undefined;
  }

  /**
   * Every SESSION_RECHECK_MS while anything a session opened is open: expired sessions close
   * theirs, and one lookup for the rest catches an end whose message never came. With the store
   * down only expiry is known; ends made meanwhile arrive when it is back.
   */
  async recheckOpened(now = Date.now()): Promise<void> {
    for (const key of [...this.opened.keys()]) if (this.expired(key, now)) this.closeOpened(key);
    const keys = [...this.opened.keys()];
    if (keys.length === 0) return this.stopRecheckWhenIdle();
    const expiries = await this.store.expiries(keys, now);
    if (expiries === undefined) return;
    keys.forEach((key, i) => {
      const opened = this.opened.get(key);
      if (expiries[i] === undefined) this.closeOpened(key);
      else if (opened) opened.expiresAt = expiries[i];
    });
  }

  private expired(key: string, now: number): boolean {
    const expiresAt = this.opened.get(key)?.expiresAt;
    return expiresAt !== undefined && expiresAt <= now;
  }

  private closeOpened(key: string): void {
    const opened = this.opened.get(key);
    if (!opened) return;
    this.opened.delete(key);
    for (const close of opened.closers) close(SESSION_ENDED);
    this.stopRecheckWhenIdle();
  }

  private stopRecheckWhenIdle(): void {
    if (this.opened.size > 0) return;
    clearInterval(this.recheck);
    this.recheck = undefined;
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
