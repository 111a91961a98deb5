import {
  ConsoleSessions,
  cookieValues,
  MAX_SAME_NAME_COOKIES,
} from './console-sessions.service.js';
import { MAX_SESSIONS, SESSION_TTL_S } from './console.constants.js';

const NOW = 1_700_000_000_000;

describe('ConsoleSessions', () => {
  it('issues random session ids that are valid until they expire', () => {
    const sessions = new ConsoleSessions();
    const id = sessions.create(NOW);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sessions.create(NOW)).not.toBe(id);
    expect(sessions.isValid(id, NOW + SESSION_TTL_S * 1000 - 1)).toBe(true);
    expect(sessions.isValid(id, NOW + SESSION_TTL_S * 1000)).toBe(false);
    expect(sessions.isValid('not-a-session', NOW)).toBe(false);
    expect(sessions.isValid(undefined, NOW)).toBe(false);
  });

  it('forgets expired sessions: they hold no place among the MAX_SESSIONS', () => {
    const sessions = new ConsoleSessions();
    const old = sessions.create(NOW);
    sessions.create(NOW + 1);
    // Expired exactly at its expiry time, and forgotten when the next session is made.
    sessions.create(NOW + SESSION_TTL_S * 1000 + 1);
    expect(sessions.size).toBe(1);
    expect(sessions.isValid(old, NOW + SESSION_TTL_S * 1000 + 1)).toBe(false);
  });

  it('forgets an expired session when it is presented', () => {
    const sessions = new ConsoleSessions();
    const id = sessions.create(NOW);
    expect(sessions.isValid(id, NOW + SESSION_TTL_S * 1000)).toBe(false);
    expect(sessions.size).toBe(0);
  });

  it('forgets a session on logout', () => {
    const sessions = new ConsoleSessions();
    const id = sessions.create(NOW);
    sessions.revoke(id);
    expect(sessions.isValid(id, NOW)).toBe(false);
    expect(() => sessions.revoke(undefined)).not.toThrow();
    expect(sessions.size).toBe(0);
  });

  it(`keeps at most ${MAX_SESSIONS} sessions, ending the oldest`, () => {
    const sessions = new ConsoleSessions();
    const first = sessions.create(NOW);
    const ids = Array.from({ length: MAX_SESSIONS }, (_, i) => sessions.create(NOW + i + 1));
    expect(sessions.size).toBe(MAX_SESSIONS);
    expect(sessions.isValid(first, NOW + MAX_SESSIONS)).toBe(false);
    expect(sessions.isValid(ids.at(-1), NOW + MAX_SESSIONS)).toBe(true);
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

describe('ConsoleSessions.sessionIn', () => {
  it('finds the live session among the cookies of its name, whichever comes first', () => {
    const sessions = new ConsoleSessions();
    const id = sessions.create(NOW);
    expect(sessions.sessionIn(`bridge_console=planted; bridge_console=${id}`, NOW)).toBe(id);
    expect(sessions.sessionIn(`bridge_console=${id}; a=1`, NOW)).toBe(id);
    expect(sessions.sessionIn('bridge_console=planted', NOW)).toBeUndefined();
    expect(sessions.sessionIn(undefined, NOW)).toBeUndefined();
  });
});
