import type { InputTranscription, TurnDetection } from '../realtime/realtime-outbound.js';

/** The DI token a team provides its per-call settings resolver under (see docs/extending.md). */
export const CALL_SETTINGS_RESOLVER = Symbol('CALL_SETTINGS_RESOLVER');

/** How long the bridge waits for a resolver before the call goes on with its defaults. */
export const CALL_SETTINGS_TIMEOUT_MS = 2000;

/** What a call's settings are: the defaults, or what a resolver chose. */
export interface CallSettingsChoice {
  instructions: string;
  voice: string;
  greeting?: string;
  /** The names of the tools this call is offered; `undefined`: every registered tool. */
  tools?: readonly string[];
  /**
   * How the end of the caller's turn is found, as the Realtime API's `turn_detection` (the
   * `openai` package's GA type): `{ type: 'server_vad' | 'semantic_vad', ... }`, or `null` for
   * none (then nothing answers the caller on its own). Default: TURN_DETECTION.
   */
  turnDetection: TurnDetection;
  /**
   * Transcription of the caller's speech, as the API's `audio.input.transcription` (`{ model,
   * language?, prompt? }`), or `null` for none (the transcript then has no caller turns).
   * Default: INPUT_TRANSCRIPTION_MODEL.
   */
  transcription: InputTranscription;
  /**
   * Azure OpenAI only (AZURE_OPENAI_ENDPOINT): the name of the deployment this call's sessions
   * run on, sent as the `model` query parameter of each connection (reconnects too). Default:
   * AZURE_OPENAI_DEPLOYMENT; undefined with OpenAI, where a chosen one is ignored (OpenAI's
   * model is OPENAI_REALTIME_MODEL for every call). Letters, digits, `.`, `_` and `-`, at most
   * 64 (Azure's rule for deployment names); anything else keeps the default.
   */
  deployment?: string;
}

/**
 * The call a resolver chooses settings for, as it is known when its stream starts (a SIP call:
 * before it is accepted, from its SIP headers).
 */
export interface CallDescription {
  callSid: string;
  /**
   * The caller's number (inbound) or the bridge's number (outbound), as Twilio gave it; on a SIP
   * call, the user part of the `From` header (`to`: of `To`, the dialled number).
   */
  from: string | undefined;
  to: string | undefined;
  /** `outbound`: started by `POST /api/calls`. */
  direction: 'inbound' | 'outbound';
  customParameters: Readonly<Record<string, string>>;
  /** The named profile the call runs with, if any. */
  profile: string | undefined;
  /** What the call gets without the resolver: env < profile < the outbound call plan. */
  defaults: Readonly<CallSettingsChoice>;
}

/**
 * Chooses one call's settings when its stream starts (a CRM lookup by the caller's number, ...).
 * What it returns overrides the defaults field by field; `undefined` keeps them all. A resolver
 * that takes longer than CALL_SETTINGS_TIMEOUT_MS, or fails, leaves the call on its defaults.
 */
export interface CallSettingsResolver {
  resolve(
    call: CallDescription,
  ): Partial<CallSettingsChoice> | undefined | Promise<Partial<CallSettingsChoice> | undefined>;
}
