import type { ColumnType, Generated } from 'kysely';

/** A timestamp: written as an ISO string or Date, read back as a Date (pg and PGlite alike). */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
/**
 * A jsonb column: written as JSON text (pg would turn a JS array into a PostgreSQL array, so
 * the writer stringifies), read back parsed.
 */
type Json<T> = ColumnType<T, string, string>;

/** How a call began: the columns `calls` and `open_calls` share. */
export interface CallStartColumns {
  call_sid: string;
  transport: string;
  direction: string;
  from_number: string | null;
  to_number: string | null;
  profile: string | null;
  started_at: Timestamp;
}

/** One ended call (docs/history.md); the columns a list filters or sorts by are columns. */
export interface CallsTable extends CallStartColumns {
  /** Insertion order: the cursor's tie-break when two calls end in the same millisecond. */
  id: Generated<number>;
  ended_at: Timestamp;
  outcome: string;
  reason: string;
  duration_s: number;
  interruptions: number;
  cost_usd: number | null;
  /** `null` or RecordingSummary. */
  recording: Json<unknown> | null;
  /** The rest of `call.ended`'s figures (turns, usage, latency, frames, reconnects, model). */
  figures: Json<Record<string, unknown>>;
  transcript: Json<unknown[]>;
  tools: Json<unknown[]>;
  /** The transcript's words, one string, for `q` (ILIKE). */
  transcript_text: string;
}

/**
 * A call under way, written when it starts and deleted with its record when it ends: a row left
 * behind names a call whose process stopped without ending it (killed, out of memory, a lost
 * node), which the history then records as `lost` (history/lost-calls.ts).
 */
export interface OpenCallsTable extends CallStartColumns {
  /** `INSTANCE_ID/boot`: the process that carries the call (boot tells a restart in place apart). */
  owner: string;
  /** The media stream's sid (a SIP call repeats its call id); null in rows of older versions. */
  stream_sid: string | null;
  /** The turns heard so far (HistoryTurn[]), written in batches while the call runs. */
  transcript: ColumnType<unknown[], string | undefined, string>;
  /** When the owner last said it is alive (the database's clock: one clock for every instance). */
  seen_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface HistoryTables {
  calls: CallsTable;
  open_calls: OpenCallsTable;
}
