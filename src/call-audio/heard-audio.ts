import { MULAW_BYTES_PER_MS } from '../audio/mulaw.js';

/** A stretch of assistant audio sent to Twilio, or a piece of it the caller has now heard. */
export interface HeardAudio {
  mulaw: Buffer;
  /** Queue position (ms, as the PlaybackClock counts it) of its first byte. */
  startMs: number;
  /** The playback clock's run it plays in: within one run, pieces play back to back. */
  run: number;
  /** When (performance.now()) its first byte plays, by the clock's dating of its run. */
  playsAt: number;
}

/**
 * Assistant audio the caller is about to hear, held until the playback clock says it has played,
 * so that whoever listens (a recording, an operator) gets what the caller heard, when they heard
 * it: paced to playback rather than the model's bursts, and nothing after a barge-in's cut.
 * Bounded: the model may run ahead of playback by at most `maxAheadMs`; what goes past the bound
 * is dropped (and counted) rather than held.
 */
export class HeardAudioQueue {
  private readonly queue: HeardAudio[] = [];
  private queuedBytes = 0;
  /** Bytes of queued audio dropped because the model ran further ahead than the bound. */
  droppedBytes = 0;

  constructor(private readonly maxAheadMs: number) {}

  /** Audio sent to Twilio, starting at queue position `startMs`, playing at `playsAt`. */
  push(mulaw: Buffer, startMs: number, run: number, playsAt: number): void {
    if ((this.queuedBytes + mulaw.length) / MULAW_BYTES_PER_MS > this.maxAheadMs) {
      this.droppedBytes += mulaw.length;
      return;
    }
    this.queue.push({ mulaw, startMs, run, playsAt });
    this.queuedBytes += mulaw.length;
  }

  /** Takes out everything before queue position `positionMs`: the caller has heard it. */
  heardUntil(positionMs: number): HeardAudio[] {
    const heard: HeardAudio[] = [];
    while (this.queue.length > 0) {
      const first = this.queue[0];
      const playedBytes = Math.floor((positionMs - first.startMs) * MULAW_BYTES_PER_MS);
      if (playedBytes <= 0) break;
      if (playedBytes >= first.mulaw.length) {
        this.queue.shift();
        this.queuedBytes -= first.mulaw.length;
        heard.push(first);
        continue;
      }
      heard.push({ ...first, mulaw: first.mulaw.subarray(0, playedBytes) });
      const playedMs = playedBytes / MULAW_BYTES_PER_MS;
      first.mulaw = first.mulaw.subarray(playedBytes);
      first.startMs += playedMs;
      first.playsAt += playedMs;
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

  /**
   * The audio sent at queue position `startMs` (`ms` of it) was dropped on its way to Twilio
   * (backpressure): nobody heard it. What was queued after it moves up, and in its run plays
   * that much earlier, as Twilio plays it.
   */
  dropped(startMs: number, ms: number): void {
    const endMs = startMs + ms;
    let run: number | undefined;
    let kept = 0;
    for (const entry of this.queue) {
      if (
        entry.startMs >= startMs &&
        entry.startMs + entry.mulaw.length / MULAW_BYTES_PER_MS <= endMs
      ) {
        run = entry.run;
        this.queuedBytes -= entry.mulaw.length;
        continue;
      }
      if (entry.startMs >= endMs) {
        entry.startMs -= ms;
        if (entry.run === run) entry.playsAt -= ms;
      }
      this.queue[kept++] = entry;
    }
    this.queue.length = kept;
  }

  get isEmpty(): boolean {
    return this.queue.length === 0;
  }
}
