import { Logger } from '@nestjs/common';
import { LogThrottle } from './log-throttle.js';

/** Refusal lines a second, per RefusalLog, and the burst allowed above that rate. */
export const REFUSAL_LOG_LINES_PER_S = 10;
export const REFUSAL_LOG_BURST = 50;

/**
 * Warnings about requests refused before they proved anything (wrong token, bad signature):
 * a stranger decides how many there are, so they go through a LogThrottle and stay one short
 * line each. What was held back is counted on the next line written.
 */
export class RefusalLog {
  private readonly throttle = new LogThrottle(REFUSAL_LOG_LINES_PER_S, REFUSAL_LOG_BURST);
  private readonly log: Logger;

  constructor(context: string) {
    this.log = new Logger(context);
  }

  warn(message: string): void {
    const line = this.throttle.line(message);
    if (line !== undefined) this.log.warn(line);
  }
}
