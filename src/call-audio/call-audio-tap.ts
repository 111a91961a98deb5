import { Injectable, Scope } from '@nestjs/common';
import { CallLogger } from '../call/call-logger.js';
import { CallStart } from '../call/call-start.js';
import type { CallAudioListener, TappedCall } from './call-audio.js';
import { CallAudioTaps } from './call-audio-taps.service.js';
import { MULAW_BYTES_PER_MS } from '../audio/mulaw.js';
import { HeardAudioQueue, type HeardAudio } from './heard-audio.js';

/**
 * How far the model's audio may run ahead of what the caller has heard and still be passed on to
 * listeners (Twilio itself holds all of it): two minutes, 960 KB of mu-law per listened call.
 */
export const MAX_HEARD_AHEAD_MS = 120_000;

/**
 * One media-stream call's audio, for whoever hears it (CallAudioListener): the caller's frames
 * as they arrive, and the assistant's as the caller heard them, both on the call's clock. The
 * media link feeds it; with no listener every hook returns at once, without decoding anything.
 *
 * The call's clock is Twilio's: caller frames carry their ms since the stream started. Assistant
 * audio is placed by when it played, mapped onto that clock through the earliest-arriving caller
 * frame seen so far, which is the one least delayed by the network. When it played is the
 * playback clock's word for the start of its run (Twilio plays queued audio back to back): the
 * first piece of a run is placed there, each later one right after the one before, however
 * late the mark echoes that release them arrive (a stall, jitter).
 */
@Injectable({ scope: Scope.REQUEST })
export class CallAudioTap {
  readonly call: TappedCall;
  private readonly listeners = new Set<CallAudioListener>();
  private readonly heard = new HeardAudioQueue(MAX_HEARD_AHEAD_MS);
  private startWallMs = performance.now();
  /** Wall clock (performance.now()) minus the call's clock, from the caller's frames. */
  private clockOffsetMs?: number;
  private state: 'new' | 'running' | 'ended' = 'new';
  /** The run of the last assistant piece passed on, and where (queue, call's clock) it ended. */
  private lastRun = -1;
  private lastEndMs = 0;
  private lastEndAtMs = 0;

  constructor(
    start: CallStart,
    private readonly taps: CallAudioTaps,
    private readonly log: CallLogger,
  ) {
    this.call = { callSid: start.callSid, streamSid: start.streamSid, startedAt: new Date() };
  }

  /** The stream started: the application's subscribers may start hearing it. */
  begin(now = performance.now()): void {
    if (this.state !== 'new') return;
    this.state = 'running';
    this.startWallMs = now;
    this.call.startedAt.setTime(Date.now());
    for (const subscriber of this.taps.started(this)) {
      const listener = this.guard('subscriber', () => subscriber(this.call));
      if (listener) this.listeners.add(listener);
    }
  }

  /** Hear this call from now on. Returns the unsubscribe; nothing more comes after `ended`. */
  listen(listener: CallAudioListener): () => void {
    if (this.state === 'ended') {
      this.guard('listener', () => listener.ended?.());
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.detach(listener);
  }

  get listened(): boolean {
    return this.listeners.size > 0;
  }

  /**
   * A caller frame (base64 mu-law) with Twilio's timestamp; `positionMs` is the playback clock's
   * position now, so assistant audio heard since the previous frame goes out with it.
   */
  callerFrame(payload: string, timestamp: string | undefined, positionMs: number): void {
    if (this.listeners.size === 0 || this.state !== 'running') return;
    const now = performance.now();
    const twilioMs = timestamp === undefined ? Number.NaN : Number(timestamp);
    let atMs: number;
    if (Number.isFinite(twilioMs) && twilioMs >= 0) {
      atMs = twilioMs;
      this.clockOffsetMs = Math.min(this.clockOffsetMs ?? Infinity, now - twilioMs);
    } else {
      atMs = this.clockAt(now);
    }
    const mulaw = Buffer.from(payload, 'base64');
    this.emit((listener) => listener.callerAudio?.(mulaw, atMs));
    this.deliver(this.heard.heardUntil(positionMs));
  }

  /**
   * Assistant audio (base64 mu-law) sent to Twilio at queue position `startMs`, in the playback
   * clock's run `run`, where it plays at `playsAt` (performance.now()).
   */
  assistantSent(delta: string, startMs: number, run: number, playsAt: number): void {
    if (this.listeners.size === 0 || this.state !== 'running') return;
    this.heard.push(Buffer.from(delta, 'base64'), startMs, run, playsAt);
  }

  /** Assistant audio sent at `startMs` never reached Twilio (backpressure): nobody hears it. */
  assistantDropped(startMs: number, ms: number): void {
    this.heard.dropped(startMs, ms);
  }

  /** A barge-in at playback position `positionMs`: the rest of the queue is never heard. */
  cut(positionMs: number): void {
    if (this.state !== 'running') return;
    this.deliver(this.heard.cut(positionMs));
  }

  /** The call ended at playback position `positionMs`. */
  end(positionMs: number): void {
    if (this.state === 'ended') return;
    const wasRunning = this.state === 'running';
    this.state = 'ended';
    if (wasRunning) {
      this.deliver(this.heard.cut(positionMs));
      this.emit((listener) => listener.ended?.());
    }
    this.listeners.clear();
    this.taps.ended(this);
  }

  /** Each piece right after the previous one of its run, the first of a run where it began. */
  private deliver(heard: HeardAudio[]): void {
    for (const piece of heard) {
      const atMs =
        piece.run === this.lastRun && piece.startMs === this.lastEndMs
          ? this.lastEndAtMs
          : Math.max(0, this.clockAt(piece.playsAt));
      const ms = piece.mulaw.length / MULAW_BYTES_PER_MS;
      this.lastRun = piece.run;
      this.lastEndMs = piece.startMs + ms;
      this.lastEndAtMs = atMs + ms;
      this.emit((listener) => listener.assistantAudio?.(piece.mulaw, atMs));
    }
  }

  /** The call's clock (ms since the stream started) at a wall-clock moment. */
  private clockAt(wallMs: number): number {
    return wallMs - (this.clockOffsetMs ?? this.startWallMs);
  }

  private emit(deliver: (listener: CallAudioListener) => void): void {
    for (const listener of this.listeners) {
      if (this.guard('listener', () => deliver(listener)) === false) this.detach(listener);
    }
  }

  private detach(listener: CallAudioListener): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0) this.heard.cut(0);
  }

  /** Runs a listener's code; a throw detaches it and is logged, and the call goes on. */
  private guard<T>(what: string, run: () => T): T | false {
    try {
      return run();
    } catch (error) {
      this.log.warn(`call audio ${what} failed and was detached: ${(error as Error).message}`);
      return false;
    }
  }
}
