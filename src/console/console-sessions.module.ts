import { Module } from '@nestjs/common';
import { ConsoleAuthGuard } from './console-auth.guard.js';
import { ConsoleSessions } from './console-sessions.service.js';

/**
 * The console's sessions and the guard that checks them, on their own: the console's routes in
 * other modules (a recording, the listen socket) check the same cookie without importing the
 * console itself, so switching the console surface off removes every console route.
 */
@Module({
  providers: [ConsoleSessions, ConsoleAuthGuard],
  exports: [ConsoleSessions, ConsoleAuthGuard],
})
export class ConsoleSessionsModule {}
