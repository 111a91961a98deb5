import { MemorySessionStore } from '../directory/memory-session-store.js';
import {
  ConsoleSessions,
  cookieValues,
  MAX_SAME_NAME_COOKIES,
  SESSION_ENDED,
} from './console-sessions.service.js';
import { MAX_SESSIONS, SESSION_TTL_S } from './console.constants.js';

const NOW = 1_700_000_000_000;
const TTL_MS = SESSION_TTL_S * 1000;
const cookie = (token: string | undefined) => `bridge_console=${token}`;

function sessionsInMemory() {
  const store = new MemorySessionStore();
  return { store, sessions: new ConsoleSessions(store) };
}

describe('ConsoleSessions', () => {
  let sessions: ConsoleSessions;
  let store: MemorySessionStore;
  beforeEach(() => ({ store, sessions } = sessionsInMemory()));
  afterEach(() => sessions.onApplicationShutdown());

  it('issues random session tokens that are valid until they expire', async () => {
    const token = (await sessions.create(NOW))!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await sessions.create(NOW)).not.toBe(token);
    expect(await sessions.sessionIn(cookie(token), NOW + TTL_MS - 1)).toBe(token);
    expect(await sessions.sessionIn(cookie(token), NOW + TTL_MS)).toBeUndefined();
    expect(await sessions.sessionIn(cookie('not-a-session'), NOW)).toBeUndefined();
    expect(await sessions.sessionIn(undefined, NOW)).toBeUndefined();
  });

  it('stores a keyed hash of the token, never the token, and names the operator by it', async () => {
    const token = (await sessions.create(NOW))!;
    const found = await sessions.find(cookie(token), NOW);
    expect(found).toEqual({
      state: 'live',
      token,
      key: store.keyOf(token),
      expiresAt: NOW + TTL_MS,
    });
    expect(store.keyOf(token)).not.toContain(token);
    expect(sessions.label(store.keyOf(token))).toBe(`console:${store.keyOf(token).slice(0, 12)}`);
  });

  it('forgets expired sessions: they hold no place among the MAX_SESSIONS', async () => {
    const old = (await sessions.create(NOW))!;
    await sessions.create(NOW + 1);
    await sessions.create(NOW + TTL_MS + 1);
    expect(await store.size(NOW + TTL_MS + 1)).toBe(1);
    expect(await sessions.sessionIn(cookie(old), NOW + TTL_MS + 1)).toBeUndefined();
  });

  it('ends every session the cookies name on logout', async () => {
    const token = (await sessions.create(NOW))!;
    await sessions.revoke(`bridge_console=planted; ${cookie(token)}`);
    expect(await sessions.sessionIn(cookie(token), NOW)).toBeUndefined();
    await expect(sessions.revoke(undefined)).resolves.toBeUndefined();
    expect(await store.size(NOW)).toBe(0);
  });

  it(`keeps at most ${MAX_SESSIONS} sessions, ending the oldest`, async () => {
    const first = (await sessions.create(NOW))!;
    const tokens: string[] = [];
    for (let i = 0; i < MAX_SESSIONS; i++) tokens.push((await sessions.create(NOW + i + 1))!);
    expect(await store.size(NOW + MAX_SESSIONS)).toBe(MAX_SESSIONS);
    expect(await sessions.sessionIn(cookie(first), NOW + MAX_SESSIONS)).toBeUndefined();
    expect(await sessions.sessionIn(cookie(tokens.at(-1)), NOW + MAX_SESSIONS)).toBeDefined();
  });

  it('finds the live session among the cookies of its name, whichever comes first', async () => {
    const token = (await sessions.create(NOW))!;
    expect(await sessions.sessionIn(`bridge_console=planted; ${cookie(token)}`, NOW)).toBe(token);
    expect(await sessions.sessionIn(`${cookie(token)}; a=1`, NOW)).toBe(token);
    expect(await sessions.sessionIn('bridge_console=planted', NOW)).toBeUndefined();
  });
});

describe('ConsoleSessions: what a session opened', () => {
  let sessions: ConsoleSessions;
  let store: MemorySessionStore;
  beforeEach(() => ({ store, sessions } = sessionsInMemory()));
  afterEach(() => sessions.onApplicationShutdown());

  async function opened(now = NOW) {
    const token = (await sessions.create(now))!;
    const key = store.keyOf(token);
    const closed: string[] = [];
    const untrack = sessions.track(key, (why) => closed.push(why), now + TTL_MS);
    return { token, key, closed, untrack };
  }

  it('closes what a session opened when it logs out, and only that session', async () => {
    const mine = await opened();
    const theirs = await opened();
    await sessions.revoke(cookie(mine.token));
    expect(mine.closed).toEqual([SESSION_ENDED]);
    expect(theirs.closed).toEqual([]);
    expect(sessions.openSessions).toBe(1);
  });

  it('closes what the oldest session opened when MAX_SESSIONS pushes it out', async () => {
    const oldest = await opened();
    for (let i = 0; i < MAX_SESSIONS; i++) await sessions.create(NOW + i + 1);
    expect(oldest.closed).toEqual([SESSION_ENDED]);
  });

  it('closes what an expired session opened at the next re-check', async () => {
    const session = await opened();
    await sessions.recheckOpened(NOW + TTL_MS - 1);
    expect(session.closed).toEqual([]);
    await sessions.recheckOpened(NOW + TTL_MS);
    expect(session.closed).toEqual([SESSION_ENDED]);
  });

  it('closes what a session opened when the store no longer knows it (an end never heard)', async () => {
    const session = await opened();
    // The store forgets it without telling (as a lost bus message would leave it).
    (store as unknown as { sessions: Map<string, number> }).sessions.delete(session.key);
    await sessions.recheckOpened(NOW + 1);
    expect(session.closed).toEqual([SESSION_ENDED]);
  });

  it('forgets what closed by itself', async () => {
    const session = await opened();
    session.untrack();
    expect(sessions.openSessions).toBe(0);
    await sessions.revoke(cookie(session.token));
    expect(session.closed).toEqual([]);
  });

  it('checks a session afresh: live, then ended after a logout', async () => {
    const session = await opened();
    expect(await sessions.state(session.key, NOW)).toBe('live');
    await sessions.revoke(cookie(session.token));
    expect(await sessions.state(session.key, NOW)).toBe('ended');
  });
});

describe('cookieValues', () => {
  it('finds one cookie among several', () => {
    expect(cookieValues('a=1; bridge_console=abc_-9; b=2', 'bridge_console')).toEqual(['abc_-9']);
    expect(cookieValues('xbridge_console=1', 'bridge_console')).toEqual([]);
    expect(cookieValues(undefined, 'bridge_console')).toEqual([]);
  });

  it('reads a value without the spaces around it, and only a cookie with a value', () => {
    expect(cookieValues('bridge_console= abc ; b=2', 'bridge_console')).toEqual(['abc']);
    expect(cookieValues('bridge_console1; b=2', 'bridge_console')).toEqual([]);
  });

  it('gives every cookie of the name, in order, at most MAX_SAME_NAME_COOKIES', () => {
    const header = Array.from({ length: 9 }, (_, i) => `bridge_console=v${i}`).join('; ');
    expect(cookieValues(header, 'bridge_console')).toEqual(
      Array.from({ length: MAX_SAME_NAME_COOKIES }, (_, i) => `v${i}`),
    );
  });
});
