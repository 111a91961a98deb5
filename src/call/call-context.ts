import type { Type } from '@nestjs/common';
import type { TurnDetection } from '../realtime/realtime-outbound.js';

/** The longest sentence `CallContext.say` takes: a sentence to speak, not a script to read. */
export const MAX_SAY_CHARS = 1000;

/** Why this text is not a sentence to say (longer than MAX_SAY_CHARS), or undefined. */
export function sentenceProblem(text: string): string | undefined {
  if (text.length <= MAX_SAY_CHARS) return undefined;
  return `${text.length} characters, over MAX_SAY_CHARS (${MAX_SAY_CHARS})`;
}

/**
 * What `CallContext.updateSession` may change in a live call. Each field given replaces the
 * call's current one, for the rest of the call (a replaced Realtime session gets it too). The
 * voice is not here: the Realtime API refuses a new voice once the model has spoken, so it is
 * chosen once, by the CALL_SETTINGS_RESOLVER.
 */
export interface CallSessionUpdate {
  instructions?: string;
  /** The names of the registered tools the model is offered from now on (an unknown one throws). */
  tools?: readonly string[];
  /** As in CallSettingsChoice: `server_vad` / `semantic_vad` with their tuning, or `null`. */
  turnDetection?: TurnDetection;
}

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

  /**
   * Changes this call's instructions, offered tools or turn detection now: one `session.update`
   * with the fields given. Throws on a tool name that is not registered, or a field it cannot
   * change (`voice`), and then changes nothing.
   */
  abstract updateSession(update: CallSessionUpdate): void;

  /**
   * The assistant says this sentence, word for word, as its next response: at once, or after the
   * response it is giving now (never over it). Throws on an empty text or one longer than
   * MAX_SAY_CHARS.
   */
  abstract say(text: string): void;
}
