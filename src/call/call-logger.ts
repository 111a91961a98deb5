import { Logger } from '@nestjs/common';

export interface CallLogFields {
  callSid: string;
  streamSid: string;
}

/**
 * A logger whose every line carries the call's `callSid` and `streamSid` as structured fields
 * (pino merges the object into the JSON line; `msg` is the message).
 */
export class CallLogger {
  private readonly logger: Logger;

  constructor(
    context: string,
    private readonly fields: CallLogFields,
  ) {
    this.logger = new Logger(context);
  }

  log(msg: string): void {
    this.logger.log({ ...this.fields, msg });
  }

  warn(msg: string): void {
    this.logger.warn({ ...this.fields, msg });
  }

  error(msg: string): void {
    this.logger.error({ ...this.fields, msg });
  }

  /** Takes a function so the message is only built when debug logging is on. */
  debug(msg: () => string): void {
    if (Logger.isLevelEnabled('debug')) this.logger.debug({ ...this.fields, msg: msg() });
  }
}
