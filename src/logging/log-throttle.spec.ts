import { TRUNCATION_MARKER } from '../text/text-bound.js';
import { LogThrottle, MAX_THROTTLED_LINE_CHARS } from './log-throttle.js';

describe('LogThrottle', () => {
  it('writes a burst, then its rate, and reports what it held back', () => {
    let now = 0;
    const throttle = new LogThrottle(10, 3, () => now);
    const written = Array.from({ length: 10 }, (_, i) => throttle.line(`line ${i}`));
    expect(written.filter(Boolean)).toEqual(['line 0', 'line 1', 'line 2']);
    now += 100;
    expect(throttle.line('next')).toBe('next (7 similar lines not logged)');
    expect(throttle.line('again')).toBeUndefined();
  });

  it('throttles by the real clock when given none', () => {
    const throttle = new LogThrottle(1, 2);
    const written = Array.from({ length: 50 }, (_, i) => throttle.line(`line ${i}`));
    // The burst, and at most one more if a whole second passed meanwhile.
    expect(written.filter(Boolean).length).toBeLessThanOrEqual(3);
  });

  it('cuts a line whose length the peer chose', () => {
    const throttle = new LogThrottle(10, 3, () => 0);
    const line = throttle.line(`refused: unknown parameter ${'x'.repeat(8000)}`)!;
    expect(line).toHaveLength(MAX_THROTTLED_LINE_CHARS + TRUNCATION_MARKER.length);
    expect(line.endsWith(TRUNCATION_MARKER)).toBe(true);
  });
});
