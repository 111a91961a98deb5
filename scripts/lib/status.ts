/**
 * The live status line and the final summary. On a terminal the line is redrawn in place and
 * other output (transcripts, notes) is printed above it; into a pipe or a CI log, a plain line
 * is written every few seconds instead, so logs stay readable.
 */

export interface CallStats {
  elapsedMs: number;
  /** Caller audio sent, in ms (8 mu-law bytes per ms). */
  sentMs: number;
  /** Assistant audio received from the bridge, in ms. */
  receivedMs: number;
  /** Assistant audio actually played to the caller (the rest was cleared or is still queued). */
  playedMs: number;
  /** From `start` to the first assistant audio received. */
  firstAudioMs?: number;
  /** From the end of each caller utterance to the first assistant audio after it. */
  replyLatenciesMs: number[];
  marksReceived: number;
  marksAcknowledged: number;
  clears: number;
  /** Unplayed assistant audio dropped by `clear`, in ms. */
  clearedMs: number;
}

// Truncated, like the clock, so that sent audio never reads ahead of the elapsed time.
const seconds = (ms: number) => `${(Math.floor(ms / 100) / 10).toFixed(1)} s`;
const millis = (ms: number | undefined) => (ms === undefined ? '-' : `${Math.round(ms)} ms`);

export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 100));
  const minutes = Math.floor(total / 600);
  const rest = (total % 600) / 10;
  return `${String(minutes).padStart(2, '0')}:${rest.toFixed(1).padStart(4, '0')}`;
}

export function formatStatus(stats: CallStats): string {
  return [
    formatClock(stats.elapsedMs),
    `sent ${seconds(stats.sentMs)}`,
    `received ${seconds(stats.receivedMs)}`,
    `first audio ${millis(stats.firstAudioMs)}`,
    `reply ${millis(stats.replyLatenciesMs.at(-1))}`,
    `marks ${stats.marksAcknowledged}/${stats.marksReceived}`,
    `barge-ins ${stats.clears}`,
  ].join('  ');
}

export function formatSummary(stats: CallStats, outPath: string, endReason: string): string {
  const latencies = stats.replyLatenciesMs.map((ms) => millis(ms)).join(', ') || '-';
  return [
    `call ended: ${endReason}`,
    `  duration           ${seconds(stats.elapsedMs)}`,
    `  caller audio sent  ${seconds(stats.sentMs)}`,
    `  assistant audio    ${seconds(stats.receivedMs)} received, ${seconds(stats.playedMs)} played, ${seconds(stats.clearedMs)} cleared`,
    `  first audio        ${millis(stats.firstAudioMs)} after start`,
    `  reply latency      ${latencies} (end of caller speech -> first assistant audio)`,
    `  marks              ${stats.marksAcknowledged} acknowledged of ${stats.marksReceived} received`,
    `  barge-ins (clear)  ${stats.clears}`,
    `  what the caller heard: ${outPath}`,
  ].join('\n');
}

export interface StatusOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** How often a plain (non-terminal) status line is written. */
const PLAIN_EVERY_MS = 5000;

export class StatusLine {
  private current = '';
  private lastPlainAt = -Infinity;

  constructor(
    private readonly out: StatusOutput,
    private readonly now: () => number = () => performance.now(),
  ) {}

  private get live(): boolean {
    return this.out.isTTY === true;
  }

  update(text: string): void {
    if (this.live) {
      this.current = text;
      this.out.write(`\r\x1b[2K${text}`);
    } else if (this.now() - this.lastPlainAt >= PLAIN_EVERY_MS) {
      this.lastPlainAt = this.now();
      this.out.write(`${text}\n`);
    }
  }

  /** A line of its own (transcript, note), kept above the live status line. */
  print(line: string): void {
    if (this.live) this.out.write(`\r\x1b[2K${line}\n${this.current}`);
    else this.out.write(`${line}\n`);
  }

  /** Leaves the last status on screen and moves below it. */
  finish(text: string): void {
    if (this.live) this.out.write(`\r\x1b[2K${text}\n`);
    else this.out.write(`${text}\n`);
    this.current = '';
  }
}
