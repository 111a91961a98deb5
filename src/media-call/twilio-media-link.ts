import { Inject, Injectable, Scope } from '@nestjs/common';
import WebSocket from 'ws';
import { AudioCodecService, type MulawToPcm24kConverter } from '../audio/audio-codec.service.js';
import { MULAW_BYTES_PER_MS } from '../audio/mulaw.js';
import { BoundedSender } from '../websocket/bounded-sender.js';
import { closeReason } from '../websocket/close-reason.js';
import { base64DecodedLength } from '../text/json-guards.js';
import { audioConfig, type AudioConfig } from '../config/config.namespaces.js';
import { twilioOutbound } from '../twilio/media-stream.messages.js';
import { CallRecorder } from '../call/call-recorder.js';
import { CallStart } from '../call/call-start.js';
import { CallAudioTap } from '../call-audio/call-audio-tap.js';
import { PlaybackClock, type PlaybackInterruption } from './playback-clock.js';

/** Frames queued for a Twilio socket that stopped reading (~2 s of audio + marks). */
const TWILIO_HIGH_WATER_BYTES = 128 * 1024;
const TWILIO_MAX_BACKLOG_FRAMES = 200;

/**
 * One call's link to Twilio, the mirror of RealtimeLink: the caller's socket, a bounded sender
 * in front of it, the caller's audio in the session's format, the playback clock of what Twilio
 * has played, and `clear`. Outbound frames
 * are built by `twilioOutbound` only. A per-call provider.
 */
@Injectable({ scope: Scope.REQUEST })
export class TwilioMediaLink {
  readonly playback: PlaybackClock;
  /** Media frames sent to the caller. */
  framesOut = 0;
  private readonly socket: WebSocket;
  /** Audio is tagged with its queue position, to be taken back from the clock if dropped. */
  private readonly out: BoundedSender<number>;
  private readonly streamSid: string;
  private clearSequence = 0;
  /** Ms of audio the bounded sender has dropped on this call (the caller never heard it). */
  private droppedMs = 0;
  /** A barge-in waiting for Twilio to confirm its `clear`: when it began, and which echoes. */
  private clearing?: { since: number; marks: Set<string> };
  private readonly inbound?: MulawToPcm24kConverter;

  constructor(
    call: CallStart,
    codec: AudioCodecService,
    @Inject(audioConfig.KEY) audio: AudioConfig,
    recorder: CallRecorder,
    /** Whoever hears this call (a recording, an operator): fed here, where the audio passes. */
    private readonly tap: CallAudioTap,
  ) {
    if (!call.socket) throw new Error(`media call ${call.callSid} started without its socket`);
    this.socket = call.socket;
    this.out = new BoundedSender<number>(
      call.socket,
      TWILIO_HIGH_WATER_BYTES,
      TWILIO_MAX_BACKLOG_FRAMES,
      (frames, startMs) => this.dropped(frames[0], startMs),
    );
    this.streamSid = call.streamSid;
    this.playback = new PlaybackClock((itemId) => recorder.memory.assistantHeard(itemId));
    // g711_ulaw: Twilio's payload goes to OpenAI untouched; pcm16: decoded and resampled.
    if (audio.inputFormat === 'pcm16') this.inbound = codec.createInboundConverter();
  }

  /** The stream started: from here on the call can be heard (CallAudioTap). */
  start(): void {
    this.tap.begin();
  }

  /** A caller `media` frame's payload in the Realtime session's input format. */
  callerAudio(media: { payload: string; timestamp?: string }): string {
    if (this.tap.listened) {
      this.tap.callerFrame(media.payload, media.timestamp, this.playback.positionMs());
    }
    return this.inbound ? this.inbound.convertBase64(media.payload) : media.payload;
  }

  /** Audio dropped because the caller's socket stopped reading. */
  get droppedFrames(): number {
    return this.out.dropped;
  }

  /** Plays an assistant audio delta (mu-law, base64) and, every ~100 ms of audio, a mark. */
  play(responseId: string, itemId: string, contentIndex: number, delta: string): number {
    const ms = base64DecodedLength(delta) / MULAW_BYTES_PER_MS;
    const startMs = this.playback.queuedMs;
    const mark = this.playback.sent(itemId, responseId, contentIndex, ms);
    this.send(delta, startMs, mark);
    return ms;
  }

  /**
   * An operator's voice (mu-law, base64) while they hold the line: to the caller byte for byte,
   * in order. It is what the caller hears from our side, so the tap hears it as the assistant's
   * track (a recording holds what the caller heard) and the playback clock counts it, with no
   * model item behind it: nothing of it is ever truncated.
   */
  operatorAudio(payload: string): void {
    const ms = base64DecodedLength(payload) / MULAW_BYTES_PER_MS;
    const startMs = this.playback.queuedMs;
    this.send(payload, startMs, this.playback.sentUntracked(ms));
  }

  /** Audio the clock has counted at queue position `startMs`: to the tap, then to Twilio. */
  private send(payload: string, startMs: number, mark: string | undefined): void {
    this.tap.assistantSent(payload, startMs, this.playback.run, this.playback.playsAt(startMs));
    const media = twilioOutbound.media(this.streamSid, payload);
    // The audio and its mark queue, and are dropped, together under backpressure. Its tag is
    // its position counting all audio ever dropped (see `dropped`).
    this.out.sendAudio(
      media,
      mark ? twilioOutbound.mark(this.streamSid, mark) : undefined,
      startMs + this.droppedMs,
    );
    this.framesOut++;
  }

  /**
   * The bounded sender dropped audio (and its mark): Twilio never got it, so the caller never
   * hears it, and the clock and the tap take it back. Audio is dropped oldest first, so every
   * drop since this audio was sent moved it up by what it took out: its queue position now is
   * its tag less the audio dropped since.
   */
  private dropped(media: string, tag: number | undefined): void {
    if (tag === undefined) return;
    const { payload } = (JSON.parse(media) as { media: { payload: string } }).media;
    const ms = base64DecodedLength(payload) / MULAW_BYTES_PER_MS;
    const startMs = tag - this.droppedMs;
    this.droppedMs += ms;
    this.playback.dropped(startMs, ms);
    this.tap.assistantDropped(startMs, ms);
  }

  /** The item's audio is complete: its final mark says when the caller has heard all of it. */
  finished(itemId: string): void {
    const mark = this.playback.finished(itemId);
    if (mark) this.out.send(twilioOutbound.mark(this.streamSid, mark));
  }

  /**
   * Twilio echoed a mark. Returns, when this echo confirms a barge-in's `clear`, the ms from the
   * barge-in to now: what the caller experienced before the assistant fell silent.
   */
  acknowledge(name: string): number | undefined {
    this.playback.acknowledge(name);
    const clearing = this.clearing;
    if (!clearing?.marks.has(name)) return undefined;
    this.clearing = undefined;
    return performance.now() - clearing.since;
  }

  /**
   * Stops playback at once (`clear`) and says where each item was cut. Twilio answers a `clear`
   * by echoing every pending mark; one more mark right behind it echoes at the same moment even
   * when none was pending, so the barge-in's reaction is timed to Twilio really stopping.
   */
  interrupt(since?: number): PlaybackInterruption {
    this.tap.cut(this.playback.positionMs());
    const interruption = this.playback.interrupt();
    const confirm = `c${(++this.clearSequence).toString(36)}`;
    // Audio still waiting for a slow socket would only be cleared once it arrived.
    this.out.discardAudio();
    this.out.send(twilioOutbound.clear(this.streamSid));
    this.out.send(twilioOutbound.mark(this.streamSid, confirm));
    // Timed only for a caller's barge-in (`since`), not an operator taking the line.
    this.clearing =
      since === undefined
        ? undefined
        : { since, marks: new Set([...interruption.flushedMarks, confirm]) };
    return interruption;
  }

  /**
   * A failed call closes with 1011 and the reason, which tells whoever plays Twilio (the
   * simulator, a test) that it failed and why; Twilio itself ends `<Connect>` the same way for
   * any code.
   */
  close(failure?: string): void {
    this.tap.end(this.playback.positionMs());
    this.out.dispose();
    if (this.socket.readyState !== WebSocket.OPEN) return;
    if (failure === undefined) this.socket.close(1000, 'call ended');
    else this.socket.close(1011, closeReason(failure));
  }
}
