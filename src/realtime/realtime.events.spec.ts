import { MAX_ID_CHARS } from './realtime-ids.js';
import { parseRealtimeEvent } from './realtime.events.js';

const parse = (event: Record<string, unknown>) => parseRealtimeEvent(JSON.stringify(event));

describe('parseRealtimeEvent (server events typed from the openai package, checked at the edge)', () => {
  it('hands on the fields the bridge reads, not the rest of the event', () => {
    expect(
      parse({
        type: 'conversation.item.truncated',
        event_id: 'event_1',
        item_id: 'item_1',
        content_index: 0,
        audio_end_ms: 1200,
      }),
    ).toEqual({
      ok: true,
      event: {
        type: 'conversation.item.truncated',
        item_id: 'item_1',
        content_index: 0,
        audio_end_ms: 1200,
      },
    });
    expect(parse({ type: 'session.created', event_id: 'e', session: { secret: 1 } })).toEqual({
      ok: true,
      event: { type: 'session.created' },
    });
  });

  it('refuses an event without a field the bridge relies on, whatever the SDK types promise', () => {
    expect(parse({ type: 'conversation.item.truncated', item_id: 'item_1' })).toEqual({
      ok: false,
      reason: 'conversation.item.truncated without item_id/audio_end_ms',
    });
    expect(parse({ type: 'response.done', response: { status: 'completed' } }).ok).toBe(false);
    expect(parseRealtimeEvent('[1]')).toEqual({ ok: false, reason: 'no event type' });
  });

  it('refuses an event carrying an id longer than any OpenAI gives (the bridge keeps ids)', () => {
    const id = (length: number) => 'i'.repeat(length);
    const delta = (ids: Record<string, unknown>) =>
      parse({ type: 'response.output_audio.delta', delta: 'AAAA', ...ids });
    expect(delta({ response_id: 'resp_1', item_id: id(MAX_ID_CHARS) }).ok).toBe(true);
    expect(delta({ response_id: 'resp_1', item_id: id(MAX_ID_CHARS + 1) })).toEqual({
      ok: false,
      reason: `response.output_audio.delta: item_id over ${MAX_ID_CHARS} characters`,
    });
    expect(delta({ response_id: id(50_000), item_id: 'item_1' }).ok).toBe(false);
    expect(parse({ type: 'response.created', response: { id: id(MAX_ID_CHARS + 1) } }).ok).toBe(
      false,
    );
    expect(
      parse({
        type: 'conversation.item.added',
        item: { id: id(MAX_ID_CHARS + 1), type: 'message' },
      }).ok,
    ).toBe(false);
  });

  it('keeps a response status the SDK lists and drops any other', () => {
    const statusOf = (status: unknown) => {
      const result = parse({ type: 'response.done', response: { id: 'resp_1', status } });
      return result.ok && result.event.type === 'response.done'
        ? result.event.response.status
        : 'refused';
    };
    expect(statusOf('incomplete')).toBe('incomplete');
    expect(statusOf('exploded')).toBeUndefined();
    expect(statusOf(7)).toBeUndefined();
  });

  it('keeps only string error fields, and cuts the message', () => {
    const result = parse({
      type: 'error',
      error: { type: 'invalid_request_error', code: 42, message: 'x'.repeat(5000), param: null },
    });
    expect(result).toEqual({
      ok: true,
      event: { type: 'error', error: { type: 'invalid_request_error', message: 'x'.repeat(1000) } },
    });
  });

  it('passes an event type it does not act on as `other`, by name only', () => {
    expect(parse({ type: 'rate_limits.updated', rate_limits: [] })).toEqual({
      ok: true,
      event: { type: 'other', originalType: 'rate_limits.updated' },
    });
  });
});
