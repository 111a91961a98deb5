/** A media-stream call as its audio's listeners see it. */
export interface TappedCall {
  callSid: string;
  streamSid: string;
  /** When the stream started: the zero of every `atMs`. */
  startedAt: Date;
}

/**
 * Someone who hears one call: a recording, an operator listening in. Audio is G.711 mu-law at
 * 8 kHz, each side on the call's clock (`atMs`: ms since the stream started, Twilio's own media
 * timestamps for the caller). A listener that throws is detached (the call goes on).
 */
export interface CallAudioListener {
  /** A caller frame, as Twilio sent it, as it arrives. */
  callerAudio?(mulaw: Buffer, atMs: number): void;
  /**
   * Assistant audio as the caller heard it: delivered once it has played (paced to playback, in
   * steps of a caller frame), never anything a barge-in cut off.
   */
  assistantAudio?(mulaw: Buffer, atMs: number): void;
  /** The call ended: nothing more comes. */
  ended?(): void;
}

/** Asked at the start of every media-stream call; returns a listener for it, or nothing. */
export type CallAudioSubscriber = (call: TappedCall) => CallAudioListener | undefined;
