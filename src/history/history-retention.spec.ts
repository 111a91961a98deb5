import { HistoryRetention } from './history-retention.js';
import type { HistoryRepository } from './history.repository.js';

describe('HistoryRetention', () => {
  it('deletes the records of calls that ended more than HISTORY_RETENTION_DAYS ago', async () => {
    const cutoffs: Date[] = [];
    const repository = {
      deleteEndedBefore: (cutoff: Date) => {
        cutoffs.push(cutoff);
        return Promise.resolve(3);
      },
    } as unknown as HistoryRepository;
    const now = Date.parse('2026-06-30T12:00:00.000Z');

    const deleted = await new HistoryRetention(repository, 90, () => now).run();

    expect(deleted).toBe(3);
    expect(cutoffs).toEqual([new Date('2026-04-01T12:00:00.000Z')]);
  });
});
