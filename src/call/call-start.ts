import type { ContextId } from '@nestjs/core';
import type WebSocket from 'ws';
import type { CallTransport } from './call-context.js';

export interface CallIdentity {
  callSid: string;
  streamSid: string;
  accountSid: string;
  customParameters: Readonly<Record<string, string>>;
  /** Default `media`. */
  transport?: CallTransport;
}

/**
 * What a call starts with: who it is and, for a media call, the caller's socket (it exists only
 * once Twilio's `start` has been accepted). Registered as the "request" of the call's own DI
 * context before anything in it is resolved, so every per-call provider is built whole from it.
 */
export class CallStart implements CallIdentity {
  readonly callSid: string;
  readonly streamSid: string;
  readonly accountSid: string;
  readonly customParameters: Readonly<Record<string, string>>;
  readonly transport: CallTransport;

  constructor(
    /** The DI context of this call's providers (for `moduleRef.resolve(X, contextId)`). */
    readonly contextId: ContextId,
    identity: CallIdentity,
    /** The caller's Twilio media socket; a SIP call has none. */
    readonly socket?: WebSocket,
  ) {
    this.callSid = identity.callSid;
    this.streamSid = identity.streamSid;
    this.accountSid = identity.accountSid;
    this.customParameters = identity.customParameters;
    this.transport = identity.transport ?? 'media';
  }
}
