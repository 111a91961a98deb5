import { Inject, Injectable, Scope } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallOutcome } from './call-outcome.js';
import type { TranscriptTurn } from './call-context.js';
import { CallLogger } from './call-logger.js';
import { CallStart } from './call-start.js';
import type { CallControl } from './live-call-context.js';

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
 * The part that owns a call's life (CallOrchestrator, SipCall), as the call's other parts and
 * its CallContext reach it. It drives those parts, so they cannot have it injected: it registers
 * with the call's scope from its own constructor instead.
 */
export interface CallOwner extends CallControl {
  /** The conversation so far, for CallContext.transcript. */
  readonly transcript: readonly TranscriptTurn[];
  /** As ScopedCall.fail. */
  fail(reason: string): boolean;
  /** Ends the call and frees everything it holds; safe to call more than once. */
  close(reason: string, level: 'log' | 'warn', outcome: CallOutcome): void;
}

/**
 * The call a piece of code runs for. Node carries the store into everything started from inside
 * `run`: promises and their continuations, timers, and sockets opened there (the call's Realtime
 * socket). A process `unhandledRejection` handler runs in the rejected promise's context, so it
 * finds the call the promise belonged to (bootstrap.ts ends that call and no other).
 */
const calls = new AsyncLocalStorage<ScopedCall>();

/**
 * One call's guard, and the one way its parts reach the call as a whole: each of its handlers
 * (socket events, timers, tool continuations) runs inside the call's async context, and a throw
 * ends that call only, never the process or another call. A per-call provider.
 */
@Injectable({ scope: Scope.REQUEST })
export class CallScope implements ScopedCall {
  readonly callSid: string;
  private current?: CallOwner;

  constructor(
    @Inject(CallStart) call: { readonly callSid: string },
    @Inject(CallLogger) private readonly log: { error(message: string): void },
  ) {
    this.callSid = call.callSid;
  }

  /** The call whose code (or what it started) is running now, if any. */
  static current(): ScopedCall | undefined {
    return calls.getStore();
  }

  /** Called once, from the owner's constructor: before then the call has no owner to end. */
  own(owner: CallOwner): void {
    if (this.current) throw new Error(`call ${this.callSid} already has an owner`);
    this.current = owner;
  }

  /** The call's owner, once it exists (undefined while the call's parts are being built). */
  get owner(): CallOwner | undefined {
    return this.current;
  }

  fail(reason: string): boolean {
    return this.current?.fail(reason) ?? false;
  }

  /** Closes the call, inside its scope: a throw while closing ends this call only. */
  close(reason: string, level: 'log' | 'warn', outcome: CallOutcome): void {
    this.run(() => this.current?.close(reason, level, outcome));
  }

  /**
   * Runs `action` (with `arg`: a bound per-call handler then needs no closure per frame) in this
   * call's context; a throw is logged and ends the call.
   */
  run(action: () => void): void;
  run<A>(action: (arg: A) => void, arg: A): void;
  run<A>(action: (arg?: A) => void, arg?: A): void {
    try {
      calls.run(this, action, arg);
    } catch (error) {
      this.log.error(`internal error: ${describeError(error)}`);
      this.fail('internal error');
    }
  }
}

/** A thrown value or rejection reason for a log line: the stack of an Error, else its text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
