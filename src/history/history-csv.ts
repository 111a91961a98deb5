import type { HistoryCall } from './history-record.js';

/** The CSV export's columns, in order: the list's fields, flattened. */
const COLUMNS: ReadonlyArray<[string, (call: HistoryCall) => string | number | null | undefined]> =
  [
    ['callSid', (c) => c.callSid],
    ['transport', (c) => c.transport],
    ['direction', (c) => c.direction],
    ['from', (c) => c.from],
    ['to', (c) => c.to],
    ['profile', (c) => c.profile],
    ['startedAt', (c) => c.startedAt],
    ['endedAt', (c) => c.endedAt],
    ['outcome', (c) => c.outcome],
    ['reason', (c) => c.reason],
    ['durationS', (c) => c.durationS],
    ['interruptions', (c) => c.interruptions],
    ['callerTurns', (c) => c.turns.caller],
    ['assistantTurns', (c) => c.turns.assistant],
    ['inputTokens', (c) => c.usage.inputTokens],
    ['outputTokens', (c) => c.usage.outputTokens],
    ['model', (c) => c.model],
    ['costUsd', (c) => c.costUsd],
    ['recordingMs', (c) => c.recording?.durationMs],
    ['recordingBytes', (c) => c.recording?.bytes],
  ];

/** A plain number (`+15551234567`, `-3.5`): safe in a spreadsheet as it is. */
const NUMBER = /^[+-]?\d+(\.\d+)?$/;

/**
 * One CSV cell (RFC 4180). A text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a
 * tab or CR first, unless it is a plain number) gets a leading `'`: caller text is untrusted.
 */
function cell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && !NUMBER.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvHeader(): string {
  return COLUMNS.map(([name]) => name).join(',') + '\r\n';
}

export function csvRows(calls: readonly HistoryCall[]): string {
  return calls.map((call) => COLUMNS.map(([, of]) => cell(of(call))).join(',') + '\r\n').join('');
}
