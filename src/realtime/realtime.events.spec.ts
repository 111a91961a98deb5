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
