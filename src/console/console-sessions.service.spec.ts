import { MemorySessionStore } from '../directory/memory-session-store.js';
import {
  ConsoleSessions,
  cookieValues,
  MAX_SAME_NAME_COOKIES,
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
