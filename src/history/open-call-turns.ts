import { MAX_REMEMBERED_ITEMS } from '../call/conversation-memory.js';
import { historyTurnOf, type EventTurn, type HistoryTurn } from './history-record.js';
import { refusedForItsData } from './database-refusal.js';
import { MAX_OPEN_ROWS_PER_WRITE } from './history-writer.js';
import type { DatabaseReachability } from './database-reachability.js';

/**
 * How long a turn said on a call waits before it is written to the call's open row, with the
 * turns every other call said meanwhile, in one statement. A call whose process dies loses at
 * most this much of its transcript.
 */
export const OPEN_CALL_TURNS_FLUSH_MS = 5_000;
/** Turns written per call at most: the conversation memory's own bound. */
export const MAX_OPEN_CALL_TURNS = MAX_REMEMBERED_ITEMS;
/**
 * Text one statement carries, about (a call's waiting turns are never split): after a database
 * outage, every call's backlog would otherwise go in one statement of tens of megabytes.
 */
export const MAX_OPEN_CALL_TURNS_BYTES_PER_WRITE = 1024 * 1024;
/** What a turn's JSON adds to its text, about (keys, role, offset). */
const TURN_OVERHEAD = 48;

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
    private readonly log: { warn(message: string): void },
    private readonly reachability: Pick<DatabaseReachability, 'failed' | 'answered'>,
    private readonly flushMs = OPEN_CALL_TURNS_FLUSH_MS,
  ) {}

  /** Turns waiting, all calls together. */
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
    for (const part of this.statements()) {
      let taken: string[];
      try {
        taken = await this.write(part);
        this.reachability.answered();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (!refusedForItsData(error)) {
          // An outage: logged once, with the other writers' failures; the turns wait.
          this.reachability.failed(
            'the turns of open calls',
            error,
            'they wait for the next flush',
          );
          return;
        }
        this.reachability.answered();
        // Tried again they would fail again, and the turns of later statements wait behind them.
        this.log.warn(`history: the database refused turns of open calls (${message}): dropped`);
        taken = part.map((call) => call.callSid);
      }
      const written = new Set(taken);
      for (const { callSid, turns } of part) {
        if (written.has(callSid)) this.calls.get(callSid)?.waiting.splice(0, turns.length);
      }
    }
  }

  /**
   * The waiting turns, copied (turns said while a statement runs wait for the next flush), cut
   * into statements of at most MAX_OPEN_ROWS_PER_WRITE calls and about
   * MAX_OPEN_CALL_TURNS_BYTES_PER_WRITE of text: after an outage the backlog goes in pieces.
   */
  private statements(): OpenCallTurnsBatch[][] {
    const statements: OpenCallTurnsBatch[][] = [];
    let part: OpenCallTurnsBatch[] = [];
    let bytes = 0;
    for (const [callSid, call] of this.calls) {
      if (call.waiting.length === 0) continue;
      const size = call.waiting.reduce((sum, turn) => sum + turn.text.length + TURN_OVERHEAD, 0);
      const full =
        part.length === MAX_OPEN_ROWS_PER_WRITE ||
        bytes + size > MAX_OPEN_CALL_TURNS_BYTES_PER_WRITE;
      if (part.length > 0 && full) {
        statements.push(part);
        part = [];
        bytes = 0;
      }
      part.push({ callSid, turns: [...call.waiting] });
      bytes += size;
    }
    if (part.length > 0) statements.push(part);
    return statements;
  }
}
