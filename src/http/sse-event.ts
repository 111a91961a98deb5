import { truncateStrings } from '../text/text-bound.js';

/** Per-string bounds tried, longest first, when an event's JSON is over its byte bound. */
const STRING_CUTS = [4096, 1024, 256, 64] as const;

/**
 * `data` as the JSON of one server-sent event, within `maxBytes`: as is when it fits; else with
 * every string cut (marked `…[truncated]`) to the longest of STRING_CUTS that fits; else a stub
 * of its short top-level fields (`event`, `callSid`, `at` ...) with `"truncated": true`.
 */
export function sseEventJson(data: unknown, maxBytes: number): string {
  const json = JSON.stringify(data) ?? 'null';
  if (fits(json, maxBytes)) return json;
  for (const limit of STRING_CUTS) {
    const cut = JSON.stringify(truncateStrings(data, limit));
    if (fits(cut, maxBytes)) return cut;
  }
  return JSON.stringify({ ...shortFields(data), truncated: true, bytes: Buffer.byteLength(json) });
}

function fits(json: string, maxBytes: number): boolean {
  return json.length * 3 <= maxBytes || Buffer.byteLength(json) <= maxBytes;
}

/** The top-level fields that say what the event was: numbers, booleans and short strings. */
function shortFields(data: unknown): Record<string, unknown> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return {};
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === 'number' || typeof value === 'boolean') fields[key] = value;
    else if (typeof value === 'string' && value.length <= 64) fields[key] = value;
  }
  return fields;
}
