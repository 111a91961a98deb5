/** What ends a text that was cut, so a reader knows there was more. */
export const TRUNCATION_MARKER = '…[truncated]';

/**
 * Text of one call event field (a transcript turn, a tool's arguments or output, a reason): cut
 * to this many characters plus the marker before the event is emitted (events webhook, SSE,
 * the console, the call record). Transcripts are cut at 20,000 at parse; events carry less.
 */
export const MAX_EVENT_TEXT_CHARS = 8000;

/** One log line about a call (a transcript at debug level, a warning quoting a peer). */
export const MAX_LOG_LINE_CHARS = 2000;

/**
 * The first `maxChars` characters of `text` as a string of their own (`text` itself when short
 * enough). A plain `slice` keeps the whole original alive behind the part (V8 makes a slice a
 * view of its parent): 20,000 characters kept of a 4 MB transcript kept the 4 MB. The copy goes
 * through UTF-16, so every code unit, a lone surrogate too, stays as it was.
 */
export function cutText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return Buffer.from(text.slice(0, maxChars), 'utf16le').toString('utf16le');
}

/** `text` cut to `maxChars` characters with TRUNCATION_MARKER after it; as is when short enough. */
export function truncateText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  // Never leave half a surrogate pair behind.
  let end = maxChars;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${cutText(text, end)}${TRUNCATION_MARKER}`;
}

/**
 * A copy of a JSON-like value with every string in it (at any depth, keys aside) cut by
 * truncateText; the value itself when nothing needed cutting. Class instances (a Date) are kept.
 */
export function truncateStrings<T>(value: T, maxChars: number): T {
  return cut(value, maxChars) as T;
}

function cut(value: unknown, maxChars: number): unknown {
  if (typeof value === 'string') return truncateText(value, maxChars);
  if (Array.isArray(value)) {
    let changed = false;
    const copy = value.map((entry) => {
      const next = cut(entry, maxChars);
      changed ||= next !== entry;
      return next;
    });
    return changed ? copy : value;
  }
  if (
    value !== null &&
    typeof value === 'object' &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    let changed = false;
    const copy: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(value)) {
      const next = cut(entry, maxChars);
      changed ||= next !== entry;
      copy[key] = next;
    }
    return changed ? copy : value;
  }
  return value;
}
