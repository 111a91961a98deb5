import { Injectable, Scope } from '@nestjs/common';
import type { CallOutcome } from './call-outcome.js';
import { CallActivity } from './call-activity.js';
import type { CallSessionUpdate, TranscriptTurn } from './call-context.js';
import { CallEnding, ENDING_TICK_MS } from './call-ending.js';
import { CallLogger } from './call-logger.js';
import { CallRecorder } from './call-recorder.js';
import { CallRegistry, type LiveCall } from './call-registry.service.js';
import { CallScope, type CallOwner } from './call-scope.js';
import { Keypad } from './keypad.js';
import { LiveCallContext } from './live-call-context.js';
import { SessionChanges } from './session-changes.js';
import { ToolCallCoordinator } from './tool-calls.js';

/** The per-call parts every call owner drives the same way, injected together. */
@Injectable({ scope: Scope.REQUEST })
export class CallOwnerParts {
  constructor(
    readonly context: LiveCallContext,
    readonly recorder: CallRecorder,
    readonly tools: ToolCallCoordinator,
    readonly keypad: Keypad,
    readonly ending: CallEnding,
    readonly changes: SessionChanges,
    readonly registry: CallRegistry,
    readonly log: CallLogger,
    /** Every handler of the call runs in it: a throw, or a floating rejection, ends the call. */
    readonly scope: CallScope,
  ) {}
}

export type CallOwnerState = 'new' | 'accepting' | 'active' | 'closed';

/**
 * What both call owners (CallOrchestrator for a media stream, SipCall for SIP) do the same way
 * whatever the transport: own the call's scope, stand in the registry as a LiveCall with the
 * recorder's figures, take the tools' and the API's controls through the shared parts, tick the
 * call's ending once a second in its scope, and on close free the shared parts, then the
 * transport's, and end the record. A subclass adds how its call starts, what it does with its
 * transport's frames and events, and how it fails.
 */
export abstract class CallOwnerBase implements CallOwner, LiveCall {
  readonly context: LiveCallContext;
  readonly recorder: CallRecorder;
  readonly scope: CallScope;
  /** State and latency for the operator console (fed by the subclass's hooks). */
  readonly activity = new CallActivity();
  protected state: CallOwnerState = 'new';
  protected readonly tools: ToolCallCoordinator;
  protected readonly keypad: Keypad;
  protected readonly ending: CallEnding;
  protected readonly changes: SessionChanges;
  protected readonly registry: CallRegistry;
  protected readonly log: CallLogger;
  private tickTimer?: NodeJS.Timeout;

  protected constructor(parts: CallOwnerParts) {
    this.context = parts.context;
    this.recorder = parts.recorder;
    this.scope = parts.scope;
    this.tools = parts.tools;
    this.keypad = parts.keypad;
    this.ending = parts.ending;
    this.changes = parts.changes;
    this.registry = parts.registry;
    this.log = parts.log;
    parts.scope.own(this);
  }

  get stats() {
    return this.recorder.stats;
  }

  get usage() {
    return this.recorder.usage;
  }

  get transcript(): readonly TranscriptTurn[] {
    return this.recorder.memory.turns();
  }

  // --- CallControl (tools and hooks) and LiveCall (the call-control API) ---------------

  end(reason: string): void {
    this.ending.end(reason);
  }

  transfer(number: string): void {
    this.ending.transfer(number);
  }

  updateSession(update: CallSessionUpdate): void {
    this.changes.update(update);
  }

  say(text: string): void {
    this.changes.say(text);
  }

  abstract fail(reason: string): boolean;

  /** Ends the call and frees everything it holds; safe to call more than once. */
  close(reason: string, level: 'log' | 'warn' = 'log', outcome: CallOutcome = 'completed'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.tickTimer);
    this.tools.dispose();
    this.keypad.dispose();
    const dropped = this.releaseTransport(reason, outcome);
    this.registry.remove(this);
    this.recorder.ended(reason, level, outcome, {
      dropped,
      suppressedWarnings: this.log.suppressedWarnings,
    });
  }

  /** Frees what the transport holds for the call; says how many audio frames it dropped. */
  protected abstract releaseTransport(reason: string, outcome: CallOutcome): number;

  /** The call counts in the registry (against MAX_CONCURRENT_CALLS) and its record starts. */
  protected register(logLine: string): void {
    this.registry.add(this);
    this.log.log(logLine);
    this.recorder.started();
  }

  /** Runs `tick` (the call's ending: idle, duration, wrap-up) once a second in the call's scope. */
  protected startTicking(tick: () => void): void {
    this.tickTimer = setInterval(() => this.scope.run(tick), ENDING_TICK_MS);
  }
}
