import { AsyncLocalStorage } from 'node:async_hooks';

/** A call as its scope and the process's crash handlers see it. */
export interface ScopedCall {
  readonly callSid: string;
  /**
   * Ends the call after an internal error (outcome `failed`). False when it had ended already:
   * the error then belongs to no live call.
   */
  fail(reason: string): boolean;
}

/**
 * The call a piece of code runs for. Node carries the store into everything started from inside
 * `run`: promises and their continuations, timers, and sockets opened there (the call's Realtime
 * socket). A process `unhandledRejection` handler runs in the rejected promise's context, so it
 * finds the call the promise belonged to (bootstrap.ts ends that call and no other).
 */
const calls = new AsyncLocalStorage<ScopedCall>();

/**
 * One call's guard: each of its handlers (socket events, timers, tool continuations) runs inside
 * the call's async context, and a throw ends that call only, never the process or another call.
 */
export class CallScope {
  constructor(
    private readonly call: ScopedCall,
    private readonly log: { error(message: string): void },
  ) {}

  /** The call whose code (or what it started) is running now, if any. */
  static current(): ScopedCall | undefined {
    return calls.getStore();
  }

  /**
   * Runs `action` (with `arg`: a bound per-call handler then needs no closure per frame) in this
   * call's context; a throw is logged and ends the call.
   */
  run(action: () => void): void;
  run<A>(action: (arg: A) => void, arg: A): void;
  run<A>(action: (arg?: A) => void, arg?: A): void {
    try {
      calls.run(this.call, action, arg);
    } catch (error) {
      this.log.error(`internal error: ${describeError(error)}`);
      this.call.fail('internal error');
    }
  }
}

/** A thrown value or rejection reason for a log line: the stack of an Error, else its text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
