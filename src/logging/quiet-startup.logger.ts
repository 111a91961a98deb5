import type { LoggerService, LogLevel } from '@nestjs/common';

/**
 * Nest's own start-up narration (every module initialised, every route mapped: ~40 lines) is
 * useful when debugging wiring and noise otherwise; at `info` an operator should see a few lines
 * that say the service is up and where. Those contexts are logged at `debug` instead.
 */
const STARTUP_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
  'WebSocketsController',
]);

/** Wraps the application's logger, moving Nest's start-up lines down to `debug`. */
export class QuietStartupLogger implements LoggerService {
  constructor(private readonly inner: LoggerService) {}

  log(message: unknown, ...params: unknown[]): void {
    if (fromStartup(params)) this.inner.debug?.(message, ...params);
    else this.inner.log(message, ...params);
  }

  error(message: unknown, ...params: unknown[]): void {
    // A failed listen() is reported by bootstrapBridge in one line of its own.
    if (fromStartup(params) && typeof message === 'string' && message.startsWith('Error: listen '))
      this.inner.debug?.(message, ...params);
    else this.inner.error(message, ...params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.inner.warn(message, ...params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.inner.debug?.(message, ...params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.inner.verbose?.(message, ...params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    (this.inner.fatal ?? this.inner.error).call(this.inner, message, ...params);
  }

  setLogLevels(levels: LogLevel[]): void {
    this.inner.setLogLevels?.(levels);
  }
}

function fromStartup(params: unknown[]): boolean {
  const context = params.at(-1);
  return typeof context === 'string' && STARTUP_CONTEXTS.has(context);
}
