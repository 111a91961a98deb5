import { Logger } from '@nestjs/common';
import { MAX_LOG_LINE_CHARS, truncateText } from '../text/text-bound.js';

export interface CallLogFields {
  callSid: string;
  streamSid: string;
}

/**
 * Warning lines one call may write; the rest are counted and the count goes into the call
 * record. A peer sending a stream of bad events (or a storm of failures) cannot flood the logs.
 */
export const MAX_WARNINGS_PER_CALL = 50;

/**
 * A logger whose every line carries the call's `callSid` and `streamSid` as structured fields
 * (pino merges the object into the JSON line; `msg` is the message). Lines quote what peers sent
 * (transcripts, reasons), so each is cut at MAX_LOG_LINE_CHARS.
 */
export class CallLogger {
  private readonly logger: Logger;
  private warnings = 0;

  constructor(
    context: string,
    private readonly fields: CallLogFields,
  ) {
    this.logger = new Logger(context);
  }

  log(msg: string): void {
    this.logger.log({ ...this.fields, msg: bounded(msg) });
  }

  /** Warnings written past MAX_WARNINGS_PER_CALL: counted, not logged. */
  get suppressedWarnings(): number {
    return Math.max(0, this.warnings - MAX_WARNINGS_PER_CALL);
  }

  warn(msg: string): void {
    const count = ++this.warnings;
    if (count < MAX_WARNINGS_PER_CALL) this.logger.warn({ ...this.fields, msg: bounded(msg) });
    else if (count === MAX_WARNINGS_PER_CALL) {
      this.logger.warn({
        ...this.fields,
        msg: `${bounded(msg)} (warning limit of ${MAX_WARNINGS_PER_CALL} reached: further warnings of this call are only counted)`,
      });
    }
  }

  error(msg: string): void {
    this.logger.error({ ...this.fields, msg: bounded(msg) });
  }

  /** Takes a function so the message is only built when debug logging is on. */
  debug(msg: () => string): void {
    if (Logger.isLevelEnabled('debug')) this.logger.debug({ ...this.fields, msg: bounded(msg()) });
  }
}

function bounded(msg: string): string {
  return truncateText(msg, MAX_LOG_LINE_CHARS);
}
