/**
 * REDIS_URL as it may be printed: a password (or an ACL user's password) in the URL is replaced
 * by `***`, so a log line or an error never carries it.
 */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL at all (the config schema refuses those): say nothing of its content.
    return '<invalid REDIS_URL>';
  }
}
