import { MULAW_BYTES_PER_MS } from '../audio/mulaw.js';

/** One stretch of assistant audio sent to Twilio, at its position in Twilio's playback queue. */
interface QueuedAudio {
  mulaw: Buffer;
  /** Queue position (ms, as the PlaybackClock counts it) of its first byte. */
  startMs: number;
}

/** A piece of assistant audio the caller has now heard, and when it played. */
export interface HeardAudio {
  mulaw: Buffer;
  /** Queue position of its first byte. */
  startMs: number;
  /** How long before `now` its first byte played. */
  agoMs: number;
}

/**
 * Assistant audio the caller is about to hear, held until the playback clock says it has played,
 * so that whoever listens (a recording, an operator) gets what the caller heard, when they heard
 * it: paced to playback rather than the model's bursts, and nothing after a barge-in's cut.
 * Bounded: the model may run ahead of playback by at most `maxAheadMs`; what goes past the bound
 * is dropped (and counted) rather than held.
 */
export class HeardAudioQueue {
  private readonly queue: QueuedAudio[] = [];
  private queuedBytes = 0;
  /** Bytes of queued audio dropped because the model ran further ahead than the bound. */
  droppedBytes = 0;

  constructor(private readonly maxAheadMs: number) {}

  /** Audio sent to Twilio, starting at queue position `startMs`. */
  push(mulaw: Buffer, startMs: number): void {
    if ((this.queuedBytes + mulaw.length) / MULAW_BYTES_PER_MS > this.maxAheadMs) {
      this.droppedBytes += mulaw.length;
      return;
    }
    this.queue.push({ mulaw, startMs });
    this.queuedBytes += mulaw.length;
  }

  /** Takes out everything before queue position `positionMs`: the caller has heard it. */
  heardUntil(positionMs: number): HeardAudio[] {
    const heard: HeardAudio[] = [];
    while (this.queue.length > 0) {
      const first = this.queue[0];
      const playedBytes = Math.floor((positionMs - first.startMs) * MULAW_BYTES_PER_MS);
      if (playedBytes <= 0) break;
      const agoMs = positionMs - first.startMs;
      if (playedBytes >= first.mulaw.length) {
        this.queue.shift();
        this.queuedBytes -= first.mulaw.length;
        heard.push({ mulaw: first.mulaw, startMs: first.startMs, agoMs });
        continue;
      }
      heard.push({ mulaw: first.mulaw.subarray(0, playedBytes), startMs: first.startMs, agoMs });
      this.queue[0] = {
        mulaw: first.mulaw.subarray(playedBytes),
        startMs: first.startMs + playedBytes / MULAW_BYTES_PER_MS,
      };
      this.queuedBytes -= playedBytes;
      break;
    }
    return heard;
  }

  /** A barge-in at queue position `positionMs`: what was heard, and the rest never will be. */
  cut(positionMs: number): HeardAudio[] {
    const heard = this.heardUntil(positionMs);
    this.queue.length = 0;
    this.queuedBytes = 0;
    return heard;
  }

  get isEmpty(): boolean {
    return this.queue.length === 0;
  }
}
