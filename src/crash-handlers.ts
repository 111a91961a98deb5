import { Logger, type INestApplication } from '@nestjs/common';
import { CallScope, describeError } from './call/call-scope.js';

/** The exit status after an uncaught exception: the process went on in a state nobody knows. */
export const CRASH_EXIT_CODE = 1;

/** What the handlers need of the process (the real one, or a test's stand-in). */
interface ProcessEvents {
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  on(event: 'uncaughtException', listener: (error: Error) => void): unknown;
}

/**
 * What `bootstrapBridge` does about failures nothing caught. A rejected promise nobody handled
 * that belongs to a call (its CallScope: the handler runs in the promise's async context) ends
 * that call with outcome `failed`; every other call goes on. One outside any call is logged.
 * An uncaught exception may have left anything half done, so the process stops taking calls,
 * drains the active ones as on SIGTERM, and exits with CRASH_EXIT_CODE (forced after the same
 * bound as a SIGTERM's drain).
 */
export class CrashHandlers {
  private readonly log = new Logger('Process');
  private app?: INestApplication;
  private forcedExitMs = 0;
  private crashed = false;

  constructor(private readonly exit: (code: number) => void = (code) => process.exit(code)) {}

  install(target: ProcessEvents = process): void {
    target.on('unhandledRejection', (reason) => this.unhandledRejection(reason));
    target.on('uncaughtException', (error) => this.uncaughtException(error));
  }

  /** The application to drain after an uncaught exception, and when to exit regardless. */
  drainOnCrash(app: INestApplication, forcedExitMs: number): void {
    this.app = app;
    this.forcedExitMs = forcedExitMs;
  }

  unhandledRejection(reason: unknown): void {
    const call = CallScope.current();
    if (!call) {
      this.log.error(`unhandled promise rejection: ${describeError(reason)}`);
      return;
    }
    this.log.error(`unhandled promise rejection in call ${call.callSid}: ${describeError(reason)}`);
    try {
      if (!call.fail('unhandled promise rejection')) {
        this.log.warn(`call ${call.callSid} had already ended; no other call is affected`);
      }
    } catch (error) {
      this.log.error(`could not end call ${call.callSid}: ${describeError(error)}`);
    }
  }

  uncaughtException(error: Error): void {
    const call = CallScope.current();
    const where = call ? ` in call ${call.callSid}` : '';
    if (this.crashed) {
      this.log.error(`uncaught exception${where} while draining: ${describeError(error)}`);
      return;
    }
    this.crashed = true;
    // Whatever happens next, the process does not end with status 0.
    process.exitCode = CRASH_EXIT_CODE;
    const app = this.app;
    this.log.error(
      `uncaught exception${where}: ${describeError(error)}; ` +
        (app ? 'draining active calls, then exiting' : 'exiting'),
    );
    if (!app) return this.exit(CRASH_EXIT_CODE);
    setTimeout(() => this.exit(CRASH_EXIT_CODE), this.forcedExitMs).unref();
    // app.close() runs the same drain as SIGTERM (CallDrainService).
    app.close().then(
      () => this.exit(CRASH_EXIT_CODE),
      (closeError: unknown) => {
        this.log.error(`drain after the crash failed: ${describeError(closeError)}`);
        this.exit(CRASH_EXIT_CODE);
      },
    );
  }
}
