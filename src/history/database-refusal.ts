/**
 * The database refused the write for what it holds, not for being away: SQLSTATE classes 22
 * (data exception: a value it cannot store), 23 (integrity constraint) and 54 (program limit
 * exceeded: too large). Any other failure (a connection, the server shutting down, a schema a
 * migration is changing) may pass, so the write is tried again.
 */
export function refusedForItsData(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}
