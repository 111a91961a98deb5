import type { HistoryCall } from '../history/history-record.js';
import type { HistoryService } from '../history/history.service.js';
import type { RecentCallSummary } from './console-call.views.js';
import { historySummary, recentFromHistory } from './console-history-recent.js';

const stored = (callSid: string, endedAt: string) =>
  ({
    callSid,
    transport: 'media',
    direction: 'inbound',
    from: '+15550001111',
    to: null,
    profile: null,
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt,
    reason: 'caller hung up',
    outcome: 'completed',
    durationS: 12,
    interruptions: 1,
    turns: { caller: 2, assistant: 2 },
    usage: { totalTokens: 99 },
  }) as unknown as HistoryCall;

const history = (calls: HistoryCall[] | Error, enabled = true) =>
  ({
    enabled,
    list: () => (calls instanceof Error ? Promise.reject(calls) : Promise.resolve({ calls })),
  }) as unknown as HistoryService;

describe('Recent calls with the history on', () => {
  const justEnded: RecentCallSummary = {
    ...historySummary(stored('CA_NEW', '2026-01-03T00:00:00.000Z')),
  };

  it('lists the history, with calls whose record is still on its way, newest first', async () => {
    const rows = await recentFromHistory(
      history([
        stored('CA_B', '2026-01-02T00:00:00.000Z'),
        stored('CA_A', '2026-01-01T00:00:00.000Z'),
      ]),
      [justEnded],
    );
    expect(rows.map((row) => row.call.callSid)).toEqual(['CA_NEW', 'CA_B', 'CA_A']);
    expect(rows[1]).toMatchObject({
      call: { callSid: 'CA_B', from: '+15550001111', state: 'ended' },
      totalTokens: 99,
      outcome: 'completed',
    });
  });

  it('falls back to the calls in memory without history or while the database is down', async () => {
    expect(await recentFromHistory(history([], false), [justEnded])).toEqual([justEnded]);
    expect(await recentFromHistory(history(new Error('down')), [justEnded])).toEqual([justEnded]);
  });
});
