/** How a call ended, as its record, its event and the call counter say it. */
export const CALL_OUTCOMES = [
  'completed',
  'transferred',
  'timeout',
  'failed',
  'refused',
  'shutdown',
] as const;

export type CallOutcome = (typeof CALL_OUTCOMES)[number];
