import { jest } from '@jest/globals';
import { KEY_REJECTION_HOLD_MS, RealtimeHealth } from './realtime-health.service.js';

describe('RealtimeHealth', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-12-06T10:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it('reports a refused key until a connection succeeds', () => {
    const health = new RealtimeHealth();
    health.rejectedKey(401);
    expect(health.keyRejected).toEqual({ at: new Date('2026-12-06T10:00:00Z'), status: 401 });
    health.connected();
    expect(health.keyRejected).toBeUndefined();
  });

  it('lets the refusal lapse KEY_REJECTION_HOLD_MS after the last one, so a call can try again', () => {
    const health = new RealtimeHealth();
    health.rejectedKey(401);
    jest.advanceTimersByTime(KEY_REJECTION_HOLD_MS - 1000);
    health.rejectedKey(403);
    jest.advanceTimersByTime(KEY_REJECTION_HOLD_MS - 1);
    expect(health.keyRejected?.status).toBe(403);
    jest.advanceTimersByTime(1);
    expect(health.keyRejected).toBeUndefined();
  });
});
