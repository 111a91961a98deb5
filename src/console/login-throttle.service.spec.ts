import {
  LOGIN_MAX_FAILURES,
  LOGIN_MAX_FAILURES_TOTAL,
  LOGIN_MAX_SUCCESSES,
  LOGIN_TRACKED_ADDRESSES,
  LOGIN_WINDOW_S,
} from './console.constants.js';
import { LoginThrottle } from './login-throttle.service.js';

const NOW = 1_700_000_000_000;

describe('LoginThrottle', () => {
  it(`throttles an address's failures after ${LOGIN_MAX_FAILURES} until the window passes`, () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < LOGIN_MAX_FAILURES - 1; i++) throttle.failed('10.0.0.1', NOW);
    expect(throttle.failureBlockedFor('10.0.0.1', NOW)).toBe(0);
    throttle.failed('10.0.0.1', NOW);
    expect(throttle.failureBlockedFor('10.0.0.1', NOW + 1000)).toBe(LOGIN_WINDOW_S - 1);
    expect(throttle.failureBlockedFor('10.0.0.2', NOW)).toBe(0);
    expect(throttle.failureBlockedFor('10.0.0.1', NOW + LOGIN_WINDOW_S * 1000)).toBe(0);
  });

  it('holds nothing back once the window is over, however long ago', () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < LOGIN_MAX_SUCCESSES; i++) throttle.succeeded('10.0.0.1', NOW);
    for (let i = 0; i < LOGIN_MAX_FAILURES; i++) throttle.failed('10.0.0.1', NOW);
    const after = NOW + LOGIN_WINDOW_S * 1000 + 1500;
    expect(throttle.successBlockedFor('10.0.0.1', after)).toBe(0);
    expect(throttle.failureBlockedFor('10.0.0.1', after)).toBe(0);
  });

  it('never holds back the right token because of failures, from that address or another', () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < 100; i++) throttle.failed('10.0.0.1', NOW);
    expect(throttle.successBlockedFor('10.0.0.1', NOW)).toBe(0);
    expect(throttle.successBlockedFor('10.0.0.2', NOW)).toBe(0);
  });

  it(`bounds the right token apart: ${LOGIN_MAX_SUCCESSES} logins per address in the window`, () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < LOGIN_MAX_SUCCESSES; i++) throttle.succeeded('10.0.0.1', NOW);
    expect(throttle.successBlockedFor('10.0.0.1', NOW)).toBe(LOGIN_WINDOW_S);
    expect(throttle.failureBlockedFor('10.0.0.1', NOW)).toBe(0);
    expect(throttle.successBlockedFor('10.0.0.2', NOW)).toBe(0);
  });

  it(`remembers at most ${LOGIN_TRACKED_ADDRESSES} addresses, forgetting the oldest`, () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < LOGIN_MAX_SUCCESSES; i++) throttle.succeeded('first', NOW);
    for (let i = 0; i < LOGIN_TRACKED_ADDRESSES * 3; i++) {
      throttle.failed(`10.1.${i}`, NOW);
      throttle.succeeded(`10.1.${i}`, NOW);
    }
    expect(throttle.tracked).toEqual({
      failures: LOGIN_TRACKED_ADDRESSES,
      successes: LOGIN_TRACKED_ADDRESSES,
    });
    expect(throttle.successBlockedFor('first', NOW)).toBe(0);
  });

  it(`throttles failures from all addresses together past ${LOGIN_MAX_FAILURES_TOTAL}`, () => {
    const throttle = new LoginThrottle();
    // A new address per failure, as a rotated X-Forwarded-For entry would give.
    for (let i = 0; i < LOGIN_MAX_FAILURES_TOTAL - 1; i++) throttle.failed(`10.2.${i}`, NOW);
    expect(throttle.failureBlockedFor('10.3.0.1', NOW)).toBe(0);
    throttle.failed('10.2.last', NOW);
    expect(throttle.failureBlockedFor('10.3.0.1', NOW)).toBe(LOGIN_WINDOW_S);
    expect(throttle.successBlockedFor('10.3.0.1', NOW)).toBe(0);
    expect(throttle.failureBlockedFor('10.3.0.1', NOW + LOGIN_WINDOW_S * 1000)).toBe(0);
  });

  it('throttles failures that come just as the previous window ends, in a new window', () => {
    const throttle = new LoginThrottle();
    throttle.failed('10.0.0.1', NOW);
    const end = NOW + LOGIN_WINDOW_S * 1000;
    for (let i = 0; i < LOGIN_MAX_FAILURES; i++) throttle.failed('10.0.0.1', end);
    expect(throttle.failureBlockedFor('10.0.0.1', end)).toBe(LOGIN_WINDOW_S);
  });

  it('counts an address seen again after its window as new, so it is not the first forgotten', () => {
    const throttle = new LoginThrottle();
    const later = NOW + LOGIN_WINDOW_S * 1000;
    for (let i = 0; i < LOGIN_MAX_SUCCESSES; i++) throttle.succeeded('first', NOW);
    for (let i = 2; i < LOGIN_TRACKED_ADDRESSES; i++) throttle.succeeded(`10.4.${i}`, NOW);
    // `first` starts a new window, then two more addresses push the oldest out.
    for (let i = 0; i < LOGIN_MAX_SUCCESSES; i++) throttle.succeeded('first', later);
    throttle.succeeded('10.5.0.1', later);
    throttle.succeeded('10.5.0.2', later);
    expect(throttle.successBlockedFor('first', later)).toBe(LOGIN_WINDOW_S);
  });
});
