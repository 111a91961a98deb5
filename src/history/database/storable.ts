/**
 * PostgreSQL refuses two things a JavaScript string may hold: NUL (in `text`, and as `\u0000`
 * in `jsonb`) and UTF-16 surrogates that are not part of a pair (invalid in `jsonb`). Both can
 * reach a record through JSON that JSON.parse accepted: a model's transcript or tool arguments,
 * a SIP header. A write carrying one would fail every time it was tried, so the history writes
 * U+FFFD (the replacement character) in their place.
 */

const REPLACEMENT = '\uFFFD';
/** NUL, and a high surrogate not followed by a low one or a low one not preceded by a high one. */
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/**
 * What JSON.stringify writes for those: `\u0000`, and an escaped surrogate (it escapes only the
 * lone ones). A match may be a false alarm (an escaped backslash before `u0000`): it only costs
 * the slower path.
 */
const UNSTORABLE_IN_JSON = /\\u(?:0000|d[89a-f])/i;

/** `text` as PostgreSQL takes it. */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE, REPLACEMENT);
}

export function storableTextOrNull(text: string | null): string | null {
  return text === null ? null : storableText(text);
}

/** `value` as JSON text PostgreSQL's `jsonb` takes (its strings and keys made storable). */
export function storableJson(value: unknown): string {
  const json = JSON.stringify(value);
  return UNSTORABLE_IN_JSON.test(json) ? JSON.stringify(storableValue(value)) : json;
}

function storableValue(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storableValue);
  if (value === null || typeof value !== 'object') return value;
  const toJson = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof toJson === 'function') return storableValue(toJson.call(value));
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [storableText(key), storableValue(inner)]),
  );
}
