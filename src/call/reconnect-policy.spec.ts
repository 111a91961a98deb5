import {
  MAX_CONNECTIONS_PER_EPISODE,
  RECONNECT_BACKOFF_MS,
  ReconnectPolicy,
  STABLE_SESSION_MS,
} from './reconnect-policy.js';

/** Far beyond every backoff: the deadline never decides in the tests that are not about it. */
const NO_DEADLINE = 1_000_000;

describe('ReconnectPolicy', () => {
  it('backs off more after each short-lived connection and stops after the last attempt', () => {
    const policy = new ReconnectPolicy(NO_DEADLINE);
    let now = 0;
    const delays: Array<number | undefined> = [];
    for (;;) {
      policy.connecting(now, 5000);
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
    const policy = new ReconnectPolicy(NO_DEADLINE);
    policy.connecting(0, 5000);
    expect(policy.next(0)).toBe(RECONNECT_BACKOFF_MS[0]);
    policy.connecting(0, 5000);
    expect(policy.next(0)).toBe(RECONNECT_BACKOFF_MS[1]);
  });

  it('starts a fresh episode, reconnecting at once, after a session that was up a good while', () => {
    const policy = new ReconnectPolicy(NO_DEADLINE);
    for (let i = 0; i < 3; i++) {
      policy.connecting(0, 5000);
      policy.next(0);
    }
    policy.connecting(0, 5000);
    policy.opened(1000);
    expect(policy.next(1000 + STABLE_SESSION_MS)).toBe(0);
    expect(policy.attempts).toBe(0);
  });

  describe('the episode deadline', () => {
    it('gives the first attempt its own timeout when the deadline is further away', () => {
      const policy = new ReconnectPolicy(10_000);
      expect(policy.connecting(0, 5000)).toBe(5000);
    });

    it('gives an attempt only the time left in the episode when that is shorter', () => {
      const policy = new ReconnectPolicy(10_000);
      policy.connecting(0, 5000);
      const delay = policy.next(5000)!; // the first attempt hung until its timeout
      expect(delay).toBe(RECONNECT_BACKOFF_MS[0]);
      expect(policy.connecting(5000 + delay, 5000)).toBe(10_000 - 5000 - delay);
    });

    it('starts no attempt once the episode has no time left for one', () => {
      const policy = new ReconnectPolicy(3000);
      expect(policy.connecting(0, 5000)).toBe(3000);
      expect(policy.next(3000)).toBeUndefined();
      expect(policy.attempts).toBe(1);
    });

    it('ends an episode of hanging attempts within the deadline, whatever the attempt timeout', () => {
      for (const [deadline, timeout] of [
        [10_000, 5000],
        [3000, 5000],
        [10_000, 100],
        [2500, 60_000],
      ]) {
        const policy = new ReconnectPolicy(deadline);
        let now = 0;
        for (;;) {
          now += policy.connecting(now, timeout); // each attempt hangs until it times out
          const delay = policy.next(now);
          if (delay === undefined) break;
          now += delay;
        }
        expect(now).toBeLessThanOrEqual(deadline);
      }
    });

    it('counts the time a short-lived session was up against its episode', () => {
      const policy = new ReconnectPolicy(4000);
      policy.connecting(0, 5000);
      policy.opened(500);
      // Up 3.9 s, then reset: not stable, so the same episode, with 100 ms left.
      expect(policy.next(4400)).toBeUndefined();
    });

    it('gives a fresh episode its full time after a stable session', () => {
      const policy = new ReconnectPolicy(4000);
      policy.connecting(0, 5000);
      policy.opened(100);
      const lostAt = 100 + STABLE_SESSION_MS + 60_000;
      expect(policy.next(lostAt)).toBe(0);
      expect(policy.connecting(lostAt, 5000)).toBe(4000);
    });
  });
});
