/**
 * Twilio's outbound playback, as Twilio does it, on this process's monotonic clock: audio plays
 * in order and in real time from the moment it arrives (at once when nothing is playing); a mark
 * echoes when playback reaches it; `clear` drops what has not played and echoes every pending
 * mark at once. Tests compare what the bridge says was heard with `playedMs()` here, so load on
 * the machine moves both the same way.
 */
export class TwilioPlayback {
  /** When the current run of audio began playing (performance.now()). */
  runStartedAt = 0;
  /** Ms of audio queued in the current run. */
  private runMs = 0;
  private readonly pending: Array<{ name: string; timer: NodeJS.Timeout }> = [];
  /** What each `clear` cut: the ms of the run played when it arrived. */
  readonly clears: Array<{ at: number; playedMs: number }> = [];

  constructor(private readonly echo: (name: string) => void) {}

  /** Ms of the current run played by now. */
  playedMs(at = performance.now()): number {
    return Math.min(Math.max(at - this.runStartedAt, 0), this.runMs);
  }

  get playing(): boolean {
    return this.playedMs() < this.runMs;
  }

  media(ms: number): void {
    const now = performance.now();
    if (!this.playing) {
      this.runStartedAt = now;
      this.runMs = 0;
    }
    this.runMs += ms;
  }

  mark(name: string): void {
    const due = this.runStartedAt + this.runMs - performance.now();
    const entry = {
      name,
      timer: setTimeout(
        () => {
          this.pending.splice(this.pending.indexOf(entry), 1);
          this.echo(name);
        },
        Math.max(0, due),
      ),
    };
    this.pending.push(entry);
  }

  clear(): void {
    const now = performance.now();
    this.clears.push({ at: now, playedMs: this.playedMs(now) });
    this.runMs = this.playedMs(now);
    for (const entry of this.pending.splice(0)) {
      clearTimeout(entry.timer);
      this.echo(entry.name);
    }
  }

  dispose(): void {
    for (const entry of this.pending.splice(0)) clearTimeout(entry.timer);
  }
}
