/**
 * A rate limit for log lines that strangers can cause (refused upgrades and streams): `ratePerS`
 * lines a second with a burst of `burst`; the lines beyond are counted, and the count rides on
 * the next line that is written. An attacker's flood of sockets cannot become a flood of logs.
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
    return held ? `${message} (${held} similar lines not logged)` : message;
  }
}
