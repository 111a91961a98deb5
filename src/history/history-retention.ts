import type { HistoryRepository } from './history.repository.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Records older than HISTORY_RETENTION_DAYS go; `now` is injected so a test sets the clock. */
export class HistoryRetention {
  constructor(
    private readonly repository: HistoryRepository,
    private readonly retentionDays: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Deletes the records of calls that ended more than retentionDays ago; says how many. */
  run(): Promise<number> {
    return this.repository.deleteEndedBefore(new Date(this.now() - this.retentionDays * DAY_MS));
  }
}
