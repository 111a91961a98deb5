import type { Type } from '@nestjs/common';
import type { ContextId } from '@nestjs/core';
import { CallContext, type CallTransport, type TranscriptTurn } from './call-context.js';

/** What the session behind a CallContext lets tools and hooks do to the call. */
export interface CallControl {
  end(reason: string): void;
  transfer(number: string): void;
}

export interface CallIdentity {
  callSid: string;
  streamSid: string;
  accountSid: string;
  customParameters: Readonly<Record<string, string>>;
  /** Default `media`. */
  transport?: CallTransport;
}

type Resolver = <T>(type: Type<T>, contextId: ContextId) => Promise<T>;

/**
 * The bridge's CallContext: one per call, registered as the "request" of the call's DI context.
 * Kept out of the public API so that `attach` and the context id stay the bridge's business.
 */
export class LiveCallContext extends CallContext {
  readonly startedAt = new Date();
  readonly callSid: string;
  readonly streamSid: string;
  readonly accountSid: string;
  readonly customParameters: Readonly<Record<string, string>>;
  readonly transport: CallTransport;
  private control?: CallControl;
  private turns: () => readonly TranscriptTurn[] = () => [];

  constructor(
    /** The DI context of this call's provider sub-tree (for `moduleRef.resolve(X, contextId)`). */
    readonly contextId: ContextId,
    identity: CallIdentity,
    private readonly resolver: Resolver,
  ) {
    super();
    this.callSid = identity.callSid;
    this.streamSid = identity.streamSid;
    this.accountSid = identity.accountSid;
    this.customParameters = identity.customParameters;
    this.transport = identity.transport ?? 'media';
  }

  resolve<T>(type: Type<T>): Promise<T> {
    return this.resolver(type, this.contextId);
  }

  get from(): string | undefined {
    return this.customParameters.From;
  }

  get to(): string | undefined {
    return this.customParameters.To;
  }

  get profile(): string | undefined {
    return this.customParameters.profile;
  }

  get transcript(): readonly TranscriptTurn[] {
    return this.turns();
  }

  end(reason = 'ended by the application'): void {
    this.requireControl().end(reason);
  }

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

/**
 * The DI context a CallContext belongs to, for resolving per-call providers by their exact
 * wrapper (the tool explorer). Only contexts the bridge made have one.
 */
export function contextIdOf(call: CallContext): ContextId {
  if (!(call instanceof LiveCallContext)) {
    throw new Error('this CallContext was not created by the bridge for a call');
  }
  return call.contextId;
}
