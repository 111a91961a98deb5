/** What the tracker needs of the metrics (HistoryMetrics). */
export interface ReachabilityMetrics {
  writeFailed(): void;
}

export interface ReachabilityLog {
  log(message: string): void;
  warn(message: string): void;
}

/** The database does not answer: since when (ISO), and the first failure's message. */
export interface DatabaseOutage {
  since: string;
  message: string;
}

/**
 * Whether the history's database answers, as every writer sees it: the record writer, the open
 * calls' heartbeat and the turns of open calls. Each reports its failures and successes here, so
 * an outage is one warn line when the first of them fails (whichever it is: with no call ending,
 * only the heartbeat and the turns touch the database) and one line when any of them is answered
 * again, and `/health` can say so meanwhile. Every failure counts in
 * `bridge_history_write_errors_total`: each is a write that did not happen.
 */
export class DatabaseReachability {
  private outage?: DatabaseOutage & { sinceMs: number };

  constructor(
    private readonly metrics: ReachabilityMetrics,
    private readonly log: ReachabilityLog,
    /** Takes out of an error's message what must never be logged (DATABASE_URL's password). */
    private readonly redact: (message: string) => string = (message) => message,
  ) {}

  /** Undefined while the database answers. */
  get down(): DatabaseOutage | undefined {
    if (!this.outage) return undefined;
    return { since: this.outage.since, message: this.outage.message };
  }

  /**
   * `what` failed on a database that did not answer (not one that refused the data). `then`:
   * what happens to it now, for the outage's first line.
   */
  failed(what: string, error: unknown, then: string): void {
    this.metrics.writeFailed();
    if (this.outage) return;
    const message = this.redact(describe(error));
    const now = Date.now();
    this.outage = { since: new Date(now).toISOString(), sinceMs: now, message };
    // One wording whichever writer met it first: operators (and alerts) look for this line.
    this.log.warn(
      `history: the database refused a write (${what}: ${message}); ${then} (calls go on; ` +
        'the log says when it answers again)',
    );
  }

  /** The database took a statement (or refused one for its data: it answered). */
  answered(then = ''): void {
    if (!this.outage) return;
    const downS = Math.round((Date.now() - this.outage.sinceMs) / 1000);
    this.outage = undefined;
    this.log.log(`history: the database answers again after ${downS} s${then ? `; ${then}` : ''}`);
  }
}

/**
 * An error in words. A connection refused on every address of a host comes as an AggregateError
 * with no message of its own: its code says what happened.
 */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return error.message || (typeof code === 'string' ? code : error.name);
}
