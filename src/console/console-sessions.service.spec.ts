import { ConsoleSessions, cookieValue } from './console-sessions.service.js';
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

describe('cookieValue', () => {
  it('finds one cookie among several', () => {
    expect(cookieValue('a=1; bridge_console=abc_-9; b=2', 'bridge_console')).toBe('abc_-9');
    expect(cookieValue('xbridge_console=1', 'bridge_console')).toBeUndefined();
    expect(cookieValue(undefined, 'bridge_console')).toBeUndefined();
  });

  it('reads a value without the spaces around it, and only a cookie with a value', () => {
    expect(cookieValue('bridge_console= abc ; b=2', 'bridge_console')).toBe('abc');
    expect(cookieValue('bridge_console1; b=2', 'bridge_console')).toBeUndefined();
  });
});
