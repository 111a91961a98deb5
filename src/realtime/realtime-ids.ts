import { isObject, isString } from '../text/json-guards.js';

/**
 * The longest id taken from OpenAI (`item_...`, `resp_...`, `call_...` are ~30 characters): the
 * bridge keeps ids (the playback clock's items, the conversation memory), so a longer one is
 * refused at parse, whatever the event.
 */
export const MAX_ID_CHARS = 128;
const ID_FIELDS = ['item_id', 'response_id', 'previous_item_id', 'call_id', 'event_id'] as const;

/** The first id field (top level, or the response's or item's own) longer than MAX_ID_CHARS. */
export function oversizedId(v: Record<string, unknown>): string | undefined {
  const long = (value: unknown) => isString(value) && value.length > MAX_ID_CHARS;
  const field = ID_FIELDS.find((name) => long(v[name]));
  if (field) return field;
  if (isObject(v.response) && long(v.response.id)) return 'response.id';
  if (isObject(v.item) && long(v.item.id)) return 'item.id';
  return undefined;
}
