import { MAX_REMEMBERED_ITEMS } from '../call/conversation-memory.js';
import { historyTurnOf, type EventTurn, type HistoryTurn } from './history-record.js';
import { MAX_OPEN_ROWS_PER_WRITE } from './history-writer.js';

/**
 * How long a turn said on a call waits before it is written to the call's open row, with the
 * turns every other call said meanwhile, in one statement. A call whose process dies loses at
 * most this much of its transcript.
 */
export const OPEN_CALL_TURNS_FLUSH_MS = 5_000;
/** Turns written per call at most: the conversation memory's own bound. */
export const MAX_OPEN_CALL_TURNS = MAX_REMEMBERED_ITEMS;

/** One call's turns for its open row. */
export interface OpenCallTurnsBatch {
  callSid: string;
  turns: HistoryTurn[];
}

/** Appends each call's turns to its open row; resolves with the calls whose row took them. */
export type WriteOpenCallTurns = (batch: OpenCallTurnsBatch[]) => Promise<string[]>;

interface CallTurns {
  startedMs: number;
  /** Said, not written yet (in order). */
  waiting: HistoryTurn[];
  /** Written or waiting: the count MAX_OPEN_CALL_TURNS bounds. */
  kept: number;
}

/**
 * The turns of this process's calls, on their way to the calls' open rows, so that the record of
 * a call whose process dies (`lost`) keeps what was said up to OPEN_CALL_TURNS_FLUSH_MS before.
 * Turns wait in memory until the next flush; a flush the database does not take (it is down, or
 * the call's open row is not written yet) leaves them waiting for the next one. A call's turns
 * are forgotten when it ends: its own record has them all.
 */
export class OpenCallTurns {
  private readonly calls = new Map<string, CallTurns>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly write: WriteOpenCallTurns,
    private readonly log: { debug(message: string): void },
    private readonly flushMs = OPEN_CALL_TURNS_FLUSH_MS,
  ) {}

  /** Turns waiting, all calls together (tests, metrics). */
  get waiting(): number {
    let count = 0;
    for (const call of this.calls.values()) count += call.waiting.length;
    return count;
  }

  started(callSid: string, startedAt: string): void {
    this.calls.set(callSid, { startedMs: Date.parse(startedAt), waiting: [], kept: 0 });
  }

  said(callSid: string, turn: EventTurn): void {
    const call = this.calls.get(callSid);
    if (!call || call.kept >= MAX_OPEN_CALL_TURNS) return;
    call.waiting.push(historyTurnOf(turn, call.startedMs));
    call.kept++;
    if (!this.stopped) this.schedule();
  }

  ended(callSid: string): void {
    this.calls.delete(callSid);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Writes every waiting turn now (one flush at a time). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = undefined;
      if (this.waiting > 0 && !this.stopped) this.schedule();
    });
    return this.flushing;
  }

  private schedule(): void {
    // Unref'd like the heartbeat: waiting turns never hold a process up on its way out.
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  private async flushOnce(): Promise<void> {
    const batch: OpenCallTurnsBatch[] = [];
    for (const [callSid, call] of this.calls) {
      // A copy: turns said while the statement runs wait for the next flush.
      if (call.waiting.length > 0) batch.push({ callSid, turns: [...call.waiting] });
    }
    for (let i = 0; i < batch.length; i += MAX_OPEN_ROWS_PER_WRITE) {
      const part = batch.slice(i, i + MAX_OPEN_ROWS_PER_WRITE);
      let taken: string[];
      try {
        taken = await this.write(part);
      } catch (error) {
        // The writer logs the database's outages; the turns wait for the next flush.
        this.log.debug(
          `history: turns of open calls not written (${error instanceof Error ? error.message : String(error)})`,
        );
        return;
      }
      const written = new Set(taken);
      for (const { callSid, turns } of part) {
        if (written.has(callSid)) this.calls.get(callSid)?.waiting.splice(0, turns.length);
      }
    }
  }
}
