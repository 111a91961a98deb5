import type { CallAudioListener } from '../call-audio/call-audio.js';
import { StereoWindow } from './stereo-window.js';
import { WAV_CHANNELS, WAV_HEADER_BYTES, WAV_SAMPLE_RATE, durationMsOf } from './wav.js';
import { WavFileWriter } from './wav-file-writer.js';

/** What a recording is, in a call's record (the contract with history: docs/recordings.md). */
export interface RecordingSummary {
  durationMs: number;
  channels: 2;
  sampleRate: 8000;
  bytes: number;
  /** Set, with the reason, when the disk or S3 failed (the call went on). */
  failed?: string;
}

/**
 * One call's recording while it runs: the call's audio placed in a reorder window and streamed
 * to its WAV file. Everything here is synchronous and cheap; the disk is written behind it.
 */
export class CallRecording implements CallAudioListener {
  /** Set by an erasure that came while the call ran: nothing is kept when it ends. */
  erased = false;
  /** Its call has ended: what is left is finishing the file and storing it. */
  callEnded = false;
  private readonly writer: WavFileWriter;
  private readonly window: StereoWindow;

  constructor(
    readonly callSid: string,
    readonly path: string,
    maxMs: number,
    private readonly onEnded: (recording: CallRecording) => void,
  ) {
    this.writer = new WavFileWriter(path);
    this.window = new StereoWindow((pcm) => this.writer.append(pcm), maxMs);
  }

  callerAudio(mulaw: Buffer, atMs: number): void {
    this.window.put('caller', mulaw, atMs);
  }

  assistantAudio(mulaw: Buffer, atMs: number): void {
    this.window.put('assistant', mulaw, atMs);
  }

  ended(): void {
    this.callEnded = true;
    this.window.finish();
    this.onEnded(this);
  }

  /** Samples dropped: late beyond the reorder window, or past the longest recording. */
  get droppedSamples(): number {
    return this.window.lateSamples + this.window.beyondLimitSamples;
  }

  /** Completes the file (final header) and says what it holds. */
  async finish(): Promise<RecordingSummary> {
    await this.writer.finish();
    return summaryOf(this.writer.writtenBytes, this.writer.failure);
  }
}

export function summaryOf(dataBytes: number, failed?: string): RecordingSummary {
  return {
    durationMs: durationMsOf(dataBytes),
    channels: WAV_CHANNELS,
    sampleRate: WAV_SAMPLE_RATE,
    bytes: WAV_HEADER_BYTES + dataBytes,
    ...(failed ? { failed } : {}),
  };
}
