/**
 * Twilio's outbound playback buffer, emulated: audio the bridge sends is queued and played at
 * real time; a mark is queued behind the audio sent before it and echoed only once that audio has
 * played; `clear` drops every unplayed byte and echoes every pending mark at once (so the bridge
 * sees echoes for audio never heard, as it does with Twilio).
 *
 * Pure and clock-free: the caller says how many bytes of time have passed (`play`), so tests can
 * drive it without timers.
 */

type QueueItem = { kind: 'audio'; bytes: Buffer } | { kind: 'mark'; name: string };

export type PlaybackEvent = { kind: 'audio'; bytes: Buffer } | { kind: 'mark'; name: string };

export interface ClearResult {
  /** Unplayed bytes dropped. */
  droppedBytes: number;
  /** Pending marks, in order, to be echoed now. */
  marks: string[];
}

export class PlaybackBuffer {
  private readonly queue: QueueItem[] = [];
  private queuedBytes = 0;

  /** Unplayed audio bytes (mu-law: 8 per millisecond). */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  get pendingMarks(): number {
    return this.queue.filter((item) => item.kind === 'mark').length;
  }

  get idle(): boolean {
    return this.queue.length === 0;
  }

  enqueueAudio(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.queue.push({ kind: 'audio', bytes });
    this.queuedBytes += bytes.length;
  }

  enqueueMark(name: string): void {
    this.queue.push({ kind: 'mark', name });
  }

  /**
   * Plays up to `budget` bytes. Returns audio and marks in the order the caller reaches them;
   * marks at the head are reached even with a zero budget (nothing is left to play before them).
   */
  play(budget: number): PlaybackEvent[] {
    const events: PlaybackEvent[] = [];
    let left = budget;
    while (this.queue.length > 0) {
      const head = this.queue[0];
      if (head.kind === 'mark') {
        events.push(head);
        this.queue.shift();
        continue;
      }
      if (left <= 0) break;
      const take = Math.min(left, head.bytes.length);
      events.push({ kind: 'audio', bytes: head.bytes.subarray(0, take) });
      left -= take;
      this.queuedBytes -= take;
      if (take === head.bytes.length) this.queue.shift();
      else head.bytes = head.bytes.subarray(take);
    }
    return events;
  }

  clear(): ClearResult {
    const marks = this.queue.flatMap((item) => (item.kind === 'mark' ? [item.name] : []));
    const droppedBytes = this.queuedBytes;
    this.queue.length = 0;
    this.queuedBytes = 0;
    return { droppedBytes, marks };
  }
}
