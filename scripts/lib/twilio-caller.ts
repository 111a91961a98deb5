import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { decodeMulawInto } from '../../src/audio/mulaw.js';
import { rawDataToString } from '../../src/websocket/raw-data.js';
import {
  BYTES_PER_MS,
  FRAME_BYTES,
  FRAME_MS,
  isVoiced,
  MULAW_SILENCE_BYTE,
} from './caller-audio.js';
import { PlaybackBuffer } from './playback-buffer.js';
import type { CallStats } from './status.js';

/**
 * Twilio's side of one bidirectional Media Stream, over a real socket: `connected` and `start`,
 * caller audio as 20 ms `media` frames on a drift-free clock, `stop`; and for what the bridge
 * sends, Twilio's playback buffer (marks echoed after their audio has played, `clear` honoured).
 * Everything the caller hears is kept on a timeline that starts with the stream.
 */

export interface CallIdentity {
  callSid: string;
  streamSid: string;
  accountSid: string;
  /** Every `<Parameter>` of the TwiML, returned as Twilio does in `start.customParameters`. */
  customParameters: Record<string, string>;
}

export interface TwilioCallerHooks {
  /** A line worth showing the user (barge-ins, protocol oddities). */
  onNote?(line: string): void;
  /** A stretch of what the caller heard, in timeline order (assistant audio or silence). */
  onHeard?(mulaw: Buffer): void;
}

export interface CloseInfo {
  code: number;
  reason: string;
  /** True when this side ended the call (after `stop`). */
  byCaller: boolean;
}

/** A Twilio SID: two letters and 32 hex digits. */
export function randomSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

/** The caller counts as having stopped talking after this much quiet (see replyLatenciesMs). */
const END_OF_SPEECH_QUIET_MS = 200;

/** Outbound frames the bridge may send (Twilio accepts only these three). */
type BridgeFrame =
  | { event: 'media'; streamSid?: string; media: { payload: string } }
  | { event: 'mark'; streamSid?: string; mark: { name: string } }
  | { event: 'clear'; streamSid?: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Validates a frame from the bridge as strictly as Twilio does (error 31924 otherwise). */
export function parseBridgeFrame(text: string): BridgeFrame | string {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return 'a frame that is not JSON';
  }
  if (typeof frame !== 'object' || frame === null) return 'a frame that is not a JSON object';
  const { event, media, mark } = frame as Record<string, unknown>;
  switch (event) {
    case 'media': {
      const payload = (media as { payload?: unknown } | undefined)?.payload;
      if (typeof payload !== 'string' || payload.length % 4 !== 0 || !BASE64.test(payload)) {
        return 'a media frame without a valid base64 payload';
      }
      return frame as BridgeFrame;
    }
    case 'mark': {
      const name = (mark as { name?: unknown } | undefined)?.name;
      return typeof name === 'string' ? (frame as BridgeFrame) : 'a mark frame without a name';
    }
    case 'clear':
      return frame as BridgeFrame;
    default:
      return `an unknown event ${JSON.stringify(event)}`;
  }
}

export class TwilioCaller {
  readonly closed: Promise<CloseInfo>;
  private readonly playback = new PlaybackBuffer();
  private readonly heard: Buffer[] = [];
  private sequence = 0;
  private chunk = 0;
  private startedAt?: number;
  private timelineBytes = 0;
  private hungUp = false;
  private closeInfo?: CloseInfo;

  // statistics
  private sentBytes = 0;
  private receivedBytes = 0;
  private playedBytes = 0;
  private clearedBytes = 0;
  private firstAudioMs?: number;
  private readonly replyLatenciesMs: number[] = [];
  private marksReceived = 0;
  private marksAcknowledged = 0;
  private clears = 0;
  private lastVoicedAt?: number;
  private awaitingReply = false;
  private lastReceivedAt?: number;
  private readonly warned = new Set<string>();

  constructor(
    private readonly socket: WebSocket,
    readonly identity: CallIdentity,
    private readonly hooks: TwilioCallerHooks = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString(), byCaller: this.hungUp };
        resolve(this.closeInfo);
      });
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary)
        return this.warnOnce('binary', 'the bridge sent a binary frame (Twilio expects JSON text)');
      this.receive(rawDataToString(data));
    });
    socket.on('error', (error) =>
      this.hooks.onNote?.(`media stream socket error: ${error.message}`),
    );
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  get closeDetails(): CloseInfo | undefined {
    return this.closeInfo;
  }

  /** Milliseconds since `start`. */
  elapsedMs(): number {
    return this.startedAt === undefined ? 0 : this.now() - this.startedAt;
  }

  /** `connected` then `start`: the stream's clock (media timestamps, the heard timeline) starts here. */
  begin(): void {
    this.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    const { callSid, streamSid, accountSid, customParameters } = this.identity;
    this.send({
      event: 'start',
      sequenceNumber: String(++this.sequence),
      streamSid,
      start: {
        accountSid,
        callSid,
        streamSid,
        tracks: ['inbound'],
        customParameters,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
    this.startedAt = this.now();
  }

  /** Frames due by now on the 20 ms grid since `start` (a frame goes out once it is captured). */
  framesDue(): number {
    return Math.floor(this.elapsedMs() / FRAME_MS);
  }

  get framesSent(): number {
    return this.chunk;
  }

  /** One 20 ms frame of caller audio (160 mu-law bytes). */
  sendAudio(mulaw: Buffer): void {
    if (this.hungUp) return;
    this.chunk++;
    this.send({
      event: 'media',
      sequenceNumber: String(++this.sequence),
      streamSid: this.identity.streamSid,
      media: {
        track: 'inbound',
        chunk: String(this.chunk),
        timestamp: String((this.chunk - 1) * FRAME_MS),
        payload: mulaw.toString('base64'),
      },
    });
    this.sentBytes += mulaw.length;
    if (isVoiced(mulaw)) {
      this.lastVoicedAt = this.now();
      this.awaitingReply = true;
    }
  }

  sendSilence(): void {
    this.sendAudio(Buffer.alloc(FRAME_BYTES, MULAW_SILENCE_BYTE));
  }

  /**
   * Plays the buffered assistant audio up to now. What plays, and silence where nothing did,
   * goes on the heard timeline, so its sample n is what the caller heard n / 8000 s after start.
   */
  advancePlayback(): void {
    if (this.startedAt === undefined) return;
    const target = Math.floor(this.elapsedMs() * BYTES_PER_MS);
    const budget = Math.max(0, target - this.timelineBytes);
    let played = 0;
    for (const event of this.playback.play(budget)) {
      if (event.kind === 'audio') {
        this.hear(event.bytes);
        played += event.bytes.length;
      } else {
        this.echoMark(event.name);
      }
    }
    if (budget > played) this.hear(Buffer.alloc(budget - played, MULAW_SILENCE_BYTE));
    this.playedBytes += played;
    this.timelineBytes += budget;
  }

  /** Whether the assistant is still talking: audio queued, or some received just now. */
  assistantBusy(quietMs: number): boolean {
    if (!this.playback.idle) return true;
    return this.lastReceivedAt !== undefined && this.now() - this.lastReceivedAt < quietMs;
  }

  /** `stop`, then close, as Twilio does when the caller hangs up. */
  hangUp(): void {
    if (this.hungUp) return;
    this.advancePlayback();
    this.hungUp = true;
    if (this.startedAt !== undefined) {
      const { accountSid, callSid, streamSid } = this.identity;
      this.send({
        event: 'stop',
        sequenceNumber: String(++this.sequence),
        streamSid,
        stop: { accountSid, callSid },
      });
    }
    if (
      this.socket.readyState === WebSocket.OPEN ||
      this.socket.readyState === WebSocket.CONNECTING
    ) {
      this.socket.close(1000, 'caller hung up');
    }
    // A peer that never completes the closing handshake must not keep the program alive.
    const kill = setTimeout(() => this.socket.terminate(), 2000);
    void this.closed.then(() => clearTimeout(kill));
  }

  stats(): CallStats {
    return {
      elapsedMs: this.elapsedMs(),
      sentMs: this.sentBytes / BYTES_PER_MS,
      receivedMs: this.receivedBytes / BYTES_PER_MS,
      playedMs: this.playedBytes / BYTES_PER_MS,
      firstAudioMs: this.firstAudioMs,
      replyLatenciesMs: [...this.replyLatenciesMs],
      marksReceived: this.marksReceived,
      marksAcknowledged: this.marksAcknowledged,
      clears: this.clears,
      clearedMs: this.clearedBytes / BYTES_PER_MS,
    };
  }

  /** The heard timeline as mu-law bytes. */
  heardMulaw(): Buffer {
    return Buffer.concat(this.heard);
  }

  /** The heard timeline as 8 kHz 16-bit PCM. */
  heardPcm(): Int16Array {
    const mulaw = this.heardMulaw();
    const pcm = new Int16Array(mulaw.length);
    decodeMulawInto(mulaw, pcm);
    return pcm;
  }

  private hear(mulaw: Buffer): void {
    this.heard.push(mulaw);
    this.hooks.onHeard?.(mulaw);
  }

  private receive(text: string): void {
    if (this.hungUp) return;
    const frame = parseBridgeFrame(text);
    if (typeof frame === 'string') {
      // Twilio would end the call with error 31924 here; the simulator reports it and goes on.
      return this.warnOnce(frame, `the bridge sent ${frame}; Twilio would reject it (error 31924)`);
    }
    if (frame.streamSid !== this.identity.streamSid) {
      this.warnOnce(
        'streamSid',
        `the bridge sent a ${frame.event} for streamSid ${String(frame.streamSid)}, not ${this.identity.streamSid}`,
      );
    }
    // Time passes before anything new is queued: what played until now must not include it.
    this.advancePlayback();
    switch (frame.event) {
      case 'media':
        return this.receiveAudio(Buffer.from(frame.media.payload, 'base64'));
      case 'mark':
        this.marksReceived++;
        this.playback.enqueueMark(frame.mark.name);
        // A mark behind no audio has "played" already.
        return this.advancePlayback();
      case 'clear':
        return this.clear();
    }
  }

  private receiveAudio(mulaw: Buffer): void {
    if (mulaw.subarray(0, 4).toString('latin1') === 'RIFF') {
      this.warnOnce(
        'riff',
        'the bridge sent a WAV header in a media payload (Twilio plays it as noise)',
      );
    }
    const now = this.now();
    this.receivedBytes += mulaw.length;
    this.lastReceivedAt = now;
    this.firstAudioMs ??= this.elapsedMs();
    // The reply to an utterance is the first audio after the caller has gone quiet; audio while
    // the caller is still talking (a greeting, say) is not a reply to it.
    if (this.awaitingReply && this.lastVoicedAt !== undefined) {
      const quietFor = now - this.lastVoicedAt;
      if (quietFor >= END_OF_SPEECH_QUIET_MS) {
        this.replyLatenciesMs.push(quietFor);
        this.awaitingReply = false;
      }
    }
    this.playback.enqueueAudio(mulaw);
  }

  private clear(): void {
    const { droppedBytes, marks } = this.playback.clear();
    this.clears++;
    this.clearedBytes += droppedBytes;
    // Twilio echoes every pending mark at once, for audio that will now never play.
    for (const name of marks) this.echoMark(name);
    this.hooks.onNote?.(
      `barge-in: the bridge cleared playback (${(droppedBytes / BYTES_PER_MS / 1000).toFixed(2)} s unplayed dropped, ${marks.length} marks echoed)`,
    );
  }

  private echoMark(name: string): void {
    this.marksAcknowledged++;
    this.send({
      event: 'mark',
      sequenceNumber: String(++this.sequence),
      streamSid: this.identity.streamSid,
      mark: { name },
    });
  }

  private send(frame: Record<string, unknown>): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.hooks.onNote?.(`warning: ${message}`);
  }
}
