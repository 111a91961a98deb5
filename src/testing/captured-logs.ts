import type { LoggerService, LogLevel } from '@nestjs/common';

/** Every log line the application writes, kept for assertions (and silent on the console). */
export class CapturedLogs implements LoggerService {
  readonly lines: string[] = [];
  private levels: LogLevel[] = ['fatal', 'error', 'warn', 'log'];

  setLogLevels(levels: LogLevel[]): void {
    this.levels = levels;
  }

  private record(level: LogLevel, message: unknown, params: unknown[]): void {
    if (!this.levels.includes(level)) return;
    const context = params.at(-1);
    const text = render(message);
    this.lines.push(`${level} ${typeof context === 'string' ? `[${context}] ` : ''}${text}`);
    if (process.env.BRIDGE_TEST_LOGS) console.log(this.lines.at(-1));
  }

  log(message: unknown, ...params: unknown[]): void {
    this.record('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.record('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.record('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.record('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.record('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.record('fatal', message, params);
  }

  matching(pattern: RegExp): string[] {
    return this.lines.filter((line) => pattern.test(line));
  }
}

/** A log message as a line: call lines (`{callSid, streamSid, msg}`) get their ids up front. */
function render(message: unknown): string {
  if (message instanceof Error) return message.stack ?? message.message;
  if (typeof message === 'object' && message !== null && 'msg' in message) {
    const { callSid, streamSid, msg } = message as {
      callSid?: string;
      streamSid?: string;
      msg: string;
    };
    return callSid ? `[callSid=${callSid} streamSid=${streamSid}] ${msg}` : msg;
  }
  return typeof message === 'string' ? message : JSON.stringify(message);
}
