import { Logger, type INestApplication } from '@nestjs/common';
import { jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { CallScope } from './call/call-scope.js';
import { CRASH_EXIT_CODE, CrashHandlers } from './crash-handlers.js';

/** A call's scope, owned by a call that records how it was failed. */
function aCall(callSid: string, live = true) {
  const failed: string[] = [];
  const scope = new CallScope({ callSid }, { error: () => undefined });
  scope.own({
    transcript: [],
    fail: (reason) => {
      failed.push(reason);
      return live;
    },
    close: () => undefined,
    end: () => undefined,
    transfer: () => undefined,
    updateSession: () => undefined,
    say: () => undefined,
  });
  return { failed, scope };
}

describe('CrashHandlers', () => {
  let errors: string[];
  let exitCodeBefore: typeof process.exitCode;

  beforeEach(() => {
    errors = [];
    exitCodeBefore = process.exitCode;
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => {
      errors.push(String(message));
    });
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
    process.exitCode = exitCodeBefore;
  });

  it('ends the call a floating rejection belongs to, and no other, logging its callSid', async () => {
    const handlers = new CrashHandlers(() => undefined);
    const events = new EventEmitter();
    handlers.install(events);
    const a = aCall('CA_A');
    const b = aCall('CA_B');
    // As Node does: the rejection surfaces later, in the async context of the promise's creator.
    await new Promise<void>((resolve) =>
      a.scope.run(() => {
        setTimeout(() => {
          events.emit('unhandledRejection', new Error('the CRM is down'));
          resolve();
        }, 1);
      }),
    );
    expect(a.failed).toEqual(['unhandled promise rejection']);
    expect(b.failed).toEqual([]);
    expect(errors[0]).toMatch(/^unhandled promise rejection in call CA_A: Error: the CRM is down/);
  });

  it('only logs a rejection outside any call, at error', () => {
    const handlers = new CrashHandlers(() => undefined);
    handlers.unhandledRejection('plain reason');
    expect(errors).toEqual(['unhandled promise rejection: plain reason']);
  });

  it('ends a call whose handler threw, through its scope, and the process goes on', () => {
    const a = aCall('CA_A');
    a.scope.run(() => {
      throw new Error('bug');
    });
    expect(a.failed).toEqual(['internal error']);
  });

  it('drains the application after an uncaught exception, then exits with CRASH_EXIT_CODE', async () => {
    const exits: number[] = [];
    const handlers = new CrashHandlers((code) => exits.push(code));
    let closed = 0;
    const app = { close: () => Promise.resolve(void closed++) } as unknown as INestApplication;
    handlers.drainOnCrash(app, 60_000);
    handlers.uncaughtException(new Error('boom'));
    handlers.uncaughtException(new Error('again'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(1);
    expect(exits).toEqual([CRASH_EXIT_CODE]);
    expect(process.exitCode).toBe(CRASH_EXIT_CODE);
    expect(errors[0]).toMatch(
      /^uncaught exception: Error: boom.*; draining active calls, then exiting/s,
    );
    expect(errors[1]).toMatch(/^uncaught exception while draining: Error: again/);
  });

  it('exits after the forced-exit bound when the drain does not finish', async () => {
    const exits: number[] = [];
    const handlers = new CrashHandlers((code) => exits.push(code));
    const app = { close: () => new Promise(() => undefined) } as unknown as INestApplication;
    handlers.drainOnCrash(app, 20);
    handlers.uncaughtException(new Error('boom'));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(exits).toEqual([CRASH_EXIT_CODE]);
  });
});
