import type { ColumnType, Generated } from 'kysely';

/** A timestamp: written as an ISO string or Date, read back as a Date (pg and PGlite alike). */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
/**
 * A jsonb column: written as JSON text (pg would turn a JS array into a PostgreSQL array, so
 * the writer stringifies), read back parsed.
 */
type Json<T> = ColumnType<T, string, string>;

/** One ended call (docs/history.md); the columns a list filters or sorts by are columns. */
export interface CallsTable {
  /** Insertion order: the cursor's tie-break when two calls end in the same millisecond. */
  id: Generated<number>;
  call_sid: string;
  transport: string;
  direction: string;
  from_number: string | null;
  to_number: string | null;
  profile: string | null;
  started_at: Timestamp;
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

export interface HistoryTables {
  calls: CallsTable;
}
