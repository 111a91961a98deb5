import type { Type } from '@nestjs/common';

/** How a call reaches the bridge: Twilio Media Streams (audio through us) or OpenAI SIP (sideband). */
export type CallTransport = 'media' | 'sip';

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

/**
 * Everything known about one call, available by injection to every per-call provider
 * (`constructor(private readonly call: CallContext)` in a `Scope.REQUEST` provider) and passed to
 * every tool handler.
 *
 * An interface in all but name: every member is abstract and the bridge's own implementation
 * (LiveCallContext) is not exported. It is declared as an abstract class only because a class
 * is both a type and a runtime value, so it can be the DI token that plain constructor injection
 * uses (an interface is erased and would need `@Inject(TOKEN)` everywhere).
 */
export abstract class CallContext {
  abstract readonly callSid: string;
  abstract readonly streamSid: string;
  abstract readonly accountSid: string;
  /** The stream's `<Parameter>`s (From, To, profile, and any the webhook or API added). */
  abstract readonly customParameters: Readonly<Record<string, string>>;
  abstract readonly startedAt: Date;
  /** The caller's number (inbound) or the number called (outbound), as Twilio gave it. */
  abstract readonly from: string | undefined;
  abstract readonly to: string | undefined;
  /** The named profile this call runs with, if any. */
  abstract readonly profile: string | undefined;
  /**
   * The conversation so far, in conversation order and as the caller lived it (assistant turns
   * cut where the caller interrupted; caller turns need input transcription).
   */
  abstract readonly transcript: readonly TranscriptTurn[];
  /** How the call reaches the bridge. */
  abstract readonly transport: CallTransport;

  /**
   * This call's instance of a per-call (`Scope.REQUEST`) provider from any module, created on
   * first use and shared for the rest of the call: e.g. a CRM lookup keyed by the caller's number.
   */
  abstract resolve<T>(type: Type<T>): Promise<T>;

  /** The assistant says goodbye, then the call ends once the goodbye has played. */
  abstract end(reason?: string): void;

  /** A short handover sentence plays, then the live call is redirected to `<Dial>number</Dial>`. */
  abstract transfer(number: string): void;
}
