/** The opened history database (or null with HISTORY=off). */
export const HISTORY_DATABASE = Symbol('HISTORY_DATABASE');

/** Internal events between the history and the recordings (no SSE, no webhook). */
export const HistoryEvent = {
  /** The recordings module finished a recording: `{ callSid, recording }`. */
  RecordingSaved: 'recording.saved',
  /** The recordings module deleted an old recording: `{ callSid }`. */
  RecordingExpired: 'recording.expired',
  /** A record was erased: listeners delete what else they keep of the call (emitAsync). */
  Erased: 'history.erased',
  /**
   * A call was recorded as lost (its process stopped without ending it): a LostCall. The SIP
   * transport hangs up such a call when its process is certainly gone.
   */
  CallLost: 'history.call-lost',
} as const;

/** Retention runs this often (and once shortly after start). */
export const RETENTION_INTERVAL_MS = 24 * 60 * 60 * 1000;
export const RETENTION_FIRST_RUN_MS = 60 * 1000;
/**
 * At shutdown, how long waiting writes may take before they are given up (and logged with their
 * CallSids). It runs after the drain: the forced exit leaves room for it (shutdown-bounds.ts).
 */
export const HISTORY_SHUTDOWN_FLUSH_MS = 5_000;
/**
 * How long an erasure request waits for the database before it answers 503 (the erasure stays
 * queued, and is done when the database answers).
 */
export const ERASE_ANSWER_MS = 5_000;
