import { Logger } from '@nestjs/common';

/**
 * Nest holds its start-up lines until the application's logger is in place (`bufferLogs`).
 * When creating the application fails there is no such logger: Nest would print them all with
 * its own colored console logger, ~50 lines (and the error's stack) ahead of the one line
 * bootstrapBridge prints for the failure. Nest has no public way to drop them, hence the
 * subclass: it reaches the buffer Nest keeps as a protected static.
 */
class StartupLogBuffer extends Logger {
  static discard(): void {
    Logger.logBuffer.length = 0;
    Logger.detachBuffer();
  }
}

/** Drops what Nest buffered during a failed start-up, and logs directly again from now on. */
export function discardStartupLogs(): void {
  StartupLogBuffer.discard();
}
