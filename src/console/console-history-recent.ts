import type { HistoryCall } from '../history/history-record.js';
import type { HistoryService } from '../history/history.service.js';
import type { RecentCallSummary } from './console-call.views.js';
import { RECENT_CALLS } from './console.constants.js';

/** A call of the history as the console's Recent calls table shows it. */
export function historySummary(call: HistoryCall): RecentCallSummary {
  return {
    call: {
      callSid: call.callSid,
      ...(call.from ? { from: call.from } : {}),
      ...(call.to ? { to: call.to } : {}),
      direction: call.direction === 'outbound' ? 'outbound' : 'inbound',
      ...(call.profile ? { profile: call.profile } : {}),
      startedAt: call.startedAt,
      state: 'ended',
      transport: call.transport,
    },
    endedAt: call.endedAt,
    durationS: call.durationS,
    outcome: call.outcome,
    reason: call.reason,
    turns: call.turns,
    interruptions: call.interruptions,
    totalTokens: call.usage.totalTokens,
  };
}

/**
 * Recent calls with history on: the history's newest (every instance's, and older than this
 * process), with the calls that just ended here and whose record is still on its way. Without
 * history, or while its database does not answer, the in-memory list alone.
 */
export async function recentFromHistory(
  history: HistoryService,
  inMemory: RecentCallSummary[],
): Promise<RecentCallSummary[]> {
  if (!history.enabled) return inMemory;
  let stored: RecentCallSummary[];
  try {
    const page = await history.list({ limit: RECENT_CALLS, format: 'json' });
    stored = page.calls.map(historySummary);
  } catch {
    return inMemory;
  }
  const seen = new Set(stored.map((row) => row.call.callSid));
  const rows = [...stored, ...inMemory.filter((row) => !seen.has(row.call.callSid))];
  return rows.sort((a, b) => b.endedAt.localeCompare(a.endedAt)).slice(0, RECENT_CALLS);
}
