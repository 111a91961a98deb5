import type { HistoryMetrics } from '../metrics/history-metrics.service.js';
import { refusedForItsData } from './database-refusal.js';
import type { HistoryCallDetail, OpenCall, RecordingSummary } from './history-record.js';
import type { HistoryRepository } from './history.repository.js';
import { DatabaseReachability } from './database-reachability.js';
import { listSids } from './sid-list.js';

/**
 * Writes waiting for the database (its outage mid-run): past this many, a new record is lost,
 * counted in `bridge_history_dropped_total` and logged with its call.
 */
export const MAX_PENDING_HISTORY_WRITES = 1000;
/** Recordings that arrived before their call's record, kept until it is written. */
export const MAX_PENDING_RECORDINGS = 1000;
/** The first retry after a failed write, doubled up to HISTORY_RETRY_MAX_MS while it fails. */
export const HISTORY_RETRY_FIRST_MS = 1_000;
export const HISTORY_RETRY_MAX_MS = 30_000;
/**
 * Calls that start within this long of one another get their open rows in one write: a burst
 * of calls costs the database one statement, and a call that ends sooner none.
 */
export const OPEN_ROWS_BATCH_MS = 1_000;
/** Open rows per statement at most (8 parameters each; PostgreSQL takes 65,535). */
export const MAX_OPEN_ROWS_PER_WRITE = 500;

type Write =
  | { kind: 'open'; calls: OpenCall[] }
  | { kind: 'save'; record: HistoryCallDetail; closesOpenRow: boolean }
  | { kind: 'recording'; callSid: string; recording: RecordingSummary | null }
  | { kind: 'erase'; callSid: string; ended: boolean; settle: (found: boolean | Error) => void };

export interface HistoryWriterLog {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface HistoryWriterOptions {
  retryFirstMs?: number;
  retryMaxMs?: number;
  maxPending?: number;
  openBatchMs?: number;
  /** Shared with the heartbeat and the turns (HistoryService); a writer alone has its own. */
  reachability?: DatabaseReachability;
}

/**
 * The history's writes, one at a time and in order, off the call's path (a call that ends only
 * hands its record over). While the database is down they wait in a bounded queue and are
 * retried with a growing delay, and flushed in order once it answers again.
 */
export class HistoryWriter {
  private readonly queue: Write[] = [];
  /** Calls started since the last batch of open rows was handed over. */
  private readonly opening = new Map<string, OpenCall>();
  private openingTimer?: NodeJS.Timeout;
  /** callSid -> a recording whose record is not written yet (`recording.saved` came first). */
  private readonly pendingRecordings = new Map<string, RecordingSummary | null>();
  private draining = false;
  private retryTimer?: NodeJS.Timeout;
  private retryMs: number;
  private closed = false;
  private readonly reachability: DatabaseReachability;
  private readonly retryFirstMs: number;
  private readonly retryMaxMs: number;
  private readonly maxPending: number;
  private readonly openBatchMs: number;

  constructor(
    private readonly repository: HistoryRepository,
    private readonly metrics: HistoryMetrics,
    private readonly log: HistoryWriterLog,
    options: HistoryWriterOptions = {},
  ) {
    this.retryFirstMs = options.retryFirstMs ?? HISTORY_RETRY_FIRST_MS;
    this.retryMaxMs = options.retryMaxMs ?? HISTORY_RETRY_MAX_MS;
    this.maxPending = options.maxPending ?? MAX_PENDING_HISTORY_WRITES;
    this.openBatchMs = options.openBatchMs ?? OPEN_ROWS_BATCH_MS;
    this.retryMs = this.retryFirstMs;
    this.reachability = options.reachability ?? new DatabaseReachability(metrics, log);
  }

  /** Writes waiting (the database is down, or busy with the one before). */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * A call started: its open row, which tells a lost call from one still under way, is written
   * with those of the calls that start in the next OPEN_ROWS_BATCH_MS.
   */
  open(call: OpenCall): void {
    if (this.closed) return;
    this.opening.set(call.callSid, call);
    if (this.openingTimer) return;
    this.openingTimer = setTimeout(() => this.handOverOpening(), this.openBatchMs);
    this.openingTimer.unref();
  }

  save(record: HistoryCallDetail): void {
    // A call that ended before its open row was handed over never needs one.
    const closesOpenRow = !this.opening.delete(record.callSid);
    this.enqueue({ kind: 'save', record, closesOpenRow });
  }

  /** A recording finished (or expired: null) for a call whose record may not be written yet. */
  recording(callSid: string, recording: RecordingSummary | null): void {
    // Not the write in flight (index 0 while draining): its INSERT has already read the record,
    // so the recording is set by a write of its own after it.
    const queued = this.queue.find(
      (write, index): write is Extract<Write, { kind: 'save' }> =>
        index >= this.inFlight() && write.kind === 'save' && write.record.callSid === callSid,
    );
    if (queued) queued.record.recording = recording;
    else this.enqueue({ kind: 'recording', callSid, recording });
  }

  /** How many writes at the queue's head the database may be running now (0 or 1). */
  private inFlight(): number {
    return this.draining ? 1 : 0;
  }

  /** Whether a record or recording of this call waits here or is being written. */
  holds(callSid: string): boolean {
    return this.queue.some(
      (write) => write.kind !== 'open' && write.kind !== 'erase' && sidOf(write) === callSid,
    );
  }

  /**
   * An erasure: no record or recording of this call waiting here is written any more, and its
   * rows go, after any write of the call in flight (writes run in order), once the database
   * answers. Resolves with whether it had a record (written, in flight or waiting). `ended`:
   * the call is known to be over, so its open row goes even if no record is found.
   */
  erase(callSid: string, callEnded = false): Promise<boolean> {
    const before = this.queue.length;
    // Not the write in flight: the erasure runs after it.
    for (let i = this.queue.length - 1; i >= this.inFlight(); i--) {
      const write = this.queue[i];
      if (write.kind !== 'open' && write.kind !== 'erase' && sidOf(write) === callSid) {
        this.queue.splice(i, 1);
      }
    }
    this.pendingRecordings.delete(callSid);
    // A record waited: the call has ended, and its open row goes too (none is left of a call
    // under way, whose record comes when it ends).
    const ended = callEnded || this.queue.length < before;
    return new Promise((resolve, reject) => {
      const settle = (found: boolean | Error) =>
        found instanceof Error ? reject(found) : resolve(found || ended);
      if (!this.enqueue({ kind: 'erase', callSid, ended, settle })) {
        settle(new Error(`${this.queue.length} writes already wait for the database`));
      }
    });
  }

  /** Stops retrying; says which calls' records (or recordings) were still waiting: lost. */
  close(): string[] {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.openingTimer);
    return this.queue
      .filter((write) => write.kind === 'save' || write.kind === 'recording')
      .map((write) => sidOf(write));
  }

  /** Records and recordings waiting: an open row is not a record (the gauge counts records). */
  private recordsWaiting(): number {
    let count = 0;
    for (const write of this.queue)
      if (write.kind === 'save' || write.kind === 'recording') count++;
    return count;
  }

  private handOverOpening(): void {
    this.openingTimer = undefined;
    const calls = [...this.opening.values()];
    this.opening.clear();
    for (let i = 0; i < calls.length; i += MAX_OPEN_ROWS_PER_WRITE) {
      this.enqueue({ kind: 'open', calls: calls.slice(i, i + MAX_OPEN_ROWS_PER_WRITE) });
    }
  }

  /** False when the queue is full (the write is lost, counted and logged). */
  private enqueue(write: Write): boolean {
    if (this.queue.length >= this.maxPending) {
      this.metrics.recordDropped();
      this.log.error(
        `history: ${this.queue.length} writes already wait for the database ` +
          `(MAX_PENDING_HISTORY_WRITES): ${describeWrite(write)} is lost`,
      );
      return false;
    }
    this.queue.push(write);
    this.metrics.pendingRecords(this.recordsWaiting());
    void this.drain();
    return true;
  }

  private async drain(): Promise<void> {
    if (this.draining || this.retryTimer || this.closed) return;
    this.draining = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        try {
          await this.apply(this.queue[0]);
        } catch (error) {
          if (!refusedForItsData(error)) {
            this.failed(error);
            return;
          }
          // Tried again it would fail again, and hold up every write behind it.
          if (this.queue[0].kind === 'erase') this.queue[0].settle(error as Error);
          this.metrics.recordDropped();
          this.log.error(
            `history: the database refused ${describeWrite(this.queue[0])} for its data ` +
              `(${(error as Error).message}): it is dropped, the writes after it go on`,
          );
        }
        this.queue.shift();
        this.metrics.pendingRecords(this.recordsWaiting());
        this.recovered();
      }
    } finally {
      this.draining = false;
    }
  }

  private async apply(write: Write): Promise<void> {
    if (write.kind === 'open') return this.repository.open(write.calls);
    if (write.kind === 'erase') {
      return write.settle(await this.repository.erase(write.callSid, write.ended));
    }
    if (write.kind === 'save') {
      const { callSid } = write.record;
      if (this.pendingRecordings.has(callSid)) {
        write.record.recording = this.pendingRecordings.get(callSid) ?? null;
      }
      await this.repository.save(write.record, write.closesOpenRow);
      this.pendingRecordings.delete(callSid);
      return;
    }
    const found = await this.repository.setRecording(write.callSid, write.recording);
    if (!found) this.keepPendingRecording(write.callSid, write.recording);
  }

  private keepPendingRecording(callSid: string, recording: RecordingSummary | null): void {
    if (this.pendingRecordings.size >= MAX_PENDING_RECORDINGS) {
      const oldest = this.pendingRecordings.keys().next().value!;
      this.pendingRecordings.delete(oldest);
      this.log.warn(
        `history: too many recordings wait for their call's record (MAX_PENDING_RECORDINGS); call ${oldest}'s is not linked`,
      );
    }
    this.pendingRecordings.set(callSid, recording);
  }

  private failed(error: unknown): void {
    const head = this.queue[0];
    this.reachability.failed(
      head.kind === 'open' ? `the open rows of ${head.calls.length} calls` : describeWrite(head),
      error,
      `${this.queue.length} waiting, retrying in ${this.retryMs} ms`,
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.drain();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, this.retryMaxMs);
  }

  private recovered(): void {
    this.retryMs = this.retryFirstMs;
    this.reachability.answered(
      this.queue.length > 0 ? `writing the ${this.queue.length} waiting` : '',
    );
  }
}

/** What a write that finds the queue full (or that the database refuses) loses, for the log. */
function describeWrite(write: Write): string {
  if (write.kind === 'open') {
    const sids = write.calls.map((call) => call.callSid);
    return `the open rows of calls ${listSids(sids, 3)} (a crash would leave them no record)`;
  }
  const what = { save: 'record', recording: 'recording', erase: 'erasure' }[write.kind];
  return `the ${what} of call ${sidOf(write)}`;
}

function sidOf(write: Exclude<Write, { kind: 'open' }>): string {
  return write.kind === 'save' ? write.record.callSid : write.callSid;
}
