/**
 * CallSids one log line names at most (the rest are counted): a long outage may leave a thousand
 * records waiting, and one line of them all would be tens of kilobytes.
 */
export const MAX_CALL_SIDS_LOGGED = 20;

/** `CA1, CA2 and 3 more`: at most `max` CallSids named. */
export function listSids(sids: readonly string[], max = MAX_CALL_SIDS_LOGGED): string {
  const more = sids.length > max ? ` and ${sids.length - max} more` : '';
  return `${sids.slice(0, max).join(', ')}${more}`;
}
