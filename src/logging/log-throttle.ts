import { truncateText } from '../text/text-bound.js';

/**
 * The longest line a stranger can have written, before the held-back count: a refusal may
 * quote what the peer sent (a parameter name, an encoding), and the peer chooses its length.
 */
export const MAX_THROTTLED_LINE_CHARS = 300;

/**
 * A rate limit for log lines that strangers can cause (refused upgrades and streams): `ratePerS`
 * lines a second with a burst of `burst`, each cut to MAX_THROTTLED_LINE_CHARS; the lines beyond
 * are counted, and the count rides on the next line that is written. An attacker's flood of
 * sockets cannot become a flood of logs.
 */
export class LogThrottle {
  private tokens: number;
  private last: number;
  private suppressed = 0;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** The line to write (with the count of those held back before it), or undefined to skip. */
  line(message: string): string | undefined {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerS);
    this.last = now;
    if (this.tokens < 1) {
      this.suppressed++;
      return undefined;
    }
    this.tokens--;
    const held = this.suppressed;
    this.suppressed = 0;
    const line = truncateText(message, MAX_THROTTLED_LINE_CHARS);
    return held ? `${line} (${held} similar lines not logged)` : line;
  }
}
