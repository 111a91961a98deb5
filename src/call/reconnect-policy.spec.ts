import {
  MAX_CONNECTIONS_PER_EPISODE,
  RECONNECT_BACKOFF_MS,
  ReconnectPolicy,
  STABLE_SESSION_MS,
} from './reconnect-policy.js';

describe('ReconnectPolicy', () => {
  it('backs off more after each short-lived connection and stops after the last attempt', () => {
    const policy = new ReconnectPolicy();
    let now = 0;
    const delays: Array<number | undefined> = [];
    for (;;) {
      policy.connecting();
      policy.opened(now);
      now += 100; // accepted, then reset at once
      const delay = policy.next(now);
      delays.push(delay);
      if (delay === undefined) break;
      now += delay;
    }
    expect(policy.attempts).toBe(MAX_CONNECTIONS_PER_EPISODE);
    expect(delays).toEqual([...RECONNECT_BACKOFF_MS, undefined]);
    expect(MAX_CONNECTIONS_PER_EPISODE).toBeLessThanOrEqual(8);
  });

  it('counts connections that never opened the same way', () => {
    const policy = new ReconnectPolicy();
    policy.connecting();
    expect(policy.next(0)).toBe(RECONNECT_BACKOFF_MS[0]);
    policy.connecting();
    expect(policy.next(0)).toBe(RECONNECT_BACKOFF_MS[1]);
  });

  it('starts a fresh episode, reconnecting at once, after a session that was up a good while', () => {
    const policy = new ReconnectPolicy();
    for (let i = 0; i < 3; i++) {
      policy.connecting();
      policy.next(0);
    }
    policy.connecting();
    policy.opened(1000);
    expect(policy.next(1000 + STABLE_SESSION_MS)).toBe(0);
    expect(policy.attempts).toBe(0);
  });
});
