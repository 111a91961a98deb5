import type { RealtimeClientEvent } from '../realtime/realtime-outbound.js';
import type { CallLogger } from './call-logger.js';

/**
 * The seams between the per-call parts both transports share (ResponseScheduler, CallEnding,
 * CallRecorder, ToolCallCoordinator, Keypad) and what differs per transport. Each transport's
 * module binds these tokens to its own classes; the shared parts are declared in both modules
 * (`sharedCallParts`), so a part resolved in a SIP call's DI context gets the SIP bindings.
 *
 *             media (CallModule)                      SIP (SipModule)
 *   channel   RealtimeLink (the call's own session)   SidebandLink (the call's sideband)
 *   playback  TwilioMediaLink's PlaybackClock          ServerPlaybackState (output_audio_buffer.*)
 *   line      TwilioCallLine (Twilio REST)             SipCallLine (OpenAI calls API)
 *   barge-in  BargeIn (clear + truncate)               ServerPlayback (cancel + output clear)
 */

/** Where the call's Realtime client events go. */
export const CALL_CHANNEL = Symbol('CALL_CHANNEL');
/** Whether assistant audio is still reaching the caller. */
export const CALL_PLAYBACK = Symbol('CALL_PLAYBACK');
/** The phone line itself: hang up, transfer, fall back. */
export const CALL_LINE = Symbol('CALL_LINE');
/** Stops the assistant when the caller interrupts it (a key press, on both transports). */
export const CALL_BARGE_IN = Symbol('CALL_BARGE_IN');

export interface CallChannel {
  readonly isOpen: boolean;
  /** Sends a client event while open; returns the `event_id` it went with ('' if not sent). */
  send(event: RealtimeClientEvent, detail?: string): string;
  close(reason: string): void;
}

export interface CallPlayback {
  /** True while some assistant audio is not known to have reached the caller. */
  readonly isPlaying: boolean;
}

/**
 * The live call's line. Each request logs its own failure and resolves `false` rather than
 * rejecting: the call is closed by whoever asked, whatever the answer.
 */
export interface CallLine {
  /** Throws (with the reason, for the tool's error output) when this call cannot be transferred. */
  checkTransfer(): void;
  hangUp(): Promise<boolean>;
  /** Hands the caller on; a line that could not must not leave the caller with a silent assistant. */
  transfer(number: string): Promise<boolean>;
  /** The duration limit's goodbye has been heard. */
  endAtLimit(): Promise<boolean>;
  /** The assistant cannot go on: FALLBACK_MESSAGE / FALLBACK_DIAL, or a hang-up. */
  fallback(reason: string): Promise<boolean>;
}

export interface CallBargeIn {
  /** `since`: when the caller began (performance.now()), for the reaction metric. */
  interrupt(since: number, by: 'speech' | 'keypad'): void;
}

/**
 * A request about the live call through its carrier's API (`api`: for the log line); a failure
 * is logged and reported as false, so the caller closes the call whatever the answer.
 */
export async function lineRequest(
  log: Pick<CallLogger, 'error'>,
  api: string,
  what: string,
  request: () => Promise<void>,
): Promise<boolean> {
  try {
    await request();
    return true;
  } catch (error) {
    log.error(`${what} through the ${api} failed: ${(error as Error).message}`);
    return false;
  }
}
