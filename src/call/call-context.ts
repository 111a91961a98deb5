import type { Type } from '@nestjs/common';
import type { ContextId } from '@nestjs/core';

/** One turn of the conversation, as the caller lived it (see ConversationMemory). */
export interface TranscriptTurn {
  /** `tool`: a tool call and its output (`name(arguments) -> output`). */
  role: 'caller' | 'assistant' | 'tool';
  text: string;
  /** When the turn began (its place in the conversation, not when its words arrived). */
  at: Date;
  /** An assistant turn the caller cut short: `text` is the part they heard. */
  interrupted?: boolean;
  /** A caller turn typed on the keypad. */
  keypad?: boolean;
  /** Caller speech the transcription could not make out (`text` is `[inaudible]`). */
  inaudible?: boolean;
}

/** What the session behind a CallContext lets tools and hooks do to the call. */
export interface CallControl {
  end(reason: string): void;
  transfer(number: string): void;
}

/**
 * Everything known about one call, available by injection to every per-call provider
 * (`constructor(private readonly call: CallContext)` in a `Scope.REQUEST` provider) and passed to
 * every tool handler.
 */
export class CallContext {
  readonly startedAt = new Date();
  private control?: CallControl;
  private turns: () => readonly TranscriptTurn[] = () => [];

  constructor(
    /** The DI context of this call's provider sub-tree (for `moduleRef.resolve(X, contextId)`). */
    readonly contextId: ContextId,
    readonly callSid: string,
    readonly streamSid: string,
    readonly accountSid: string,
    /** The stream's `<Parameter>`s (From, To, profile, and any the webhook or API added). */
    readonly customParameters: Readonly<Record<string, string>>,
    private readonly resolver: <T>(type: Type<T>, contextId: ContextId) => Promise<T>,
  ) {}

  /**
   * This call's instance of a per-call (`Scope.REQUEST`) provider from any module, created on
   * first use and shared for the rest of the call: e.g. a CRM lookup keyed by the caller's number.
   */
  resolve<T>(type: Type<T>): Promise<T> {
    return this.resolver(type, this.contextId);
  }

  get from(): string | undefined {
    return this.customParameters.From;
  }

  get to(): string | undefined {
    return this.customParameters.To;
  }

  /** The named profile this call runs with, if any. */
  get profile(): string | undefined {
    return this.customParameters.profile;
  }

  /**
   * The conversation so far, in conversation order and as the caller lived it (assistant turns
   * cut where the caller interrupted; caller turns need input transcription).
   */
  get transcript(): readonly TranscriptTurn[] {
    return this.turns();
  }

  /** The assistant says goodbye, then the call ends once the goodbye has played. */
  end(reason = 'ended by the application'): void {
    this.requireControl().end(reason);
  }

  /** A short handover sentence plays, then the live call is redirected to `<Dial>number</Dial>`. */
  transfer(number: string): void {
    this.requireControl().transfer(number);
  }

  /** Called once by the call's orchestrator. */
  attach(control: CallControl, transcript: () => readonly TranscriptTurn[]): void {
    this.control = control;
    this.turns = transcript;
  }

  private requireControl(): CallControl {
    if (!this.control) throw new Error(`call ${this.callSid} has no session yet`);
    return this.control;
  }
}
