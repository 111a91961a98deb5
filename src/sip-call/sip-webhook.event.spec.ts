import { parseWebhookEvent, userOfSipAddress } from './sip-webhook.event.js';

const incoming = (data: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      object: 'event',
      id: 'evt_1',
      type: 'realtime.call.incoming',
      created_at: 1_800_000_000,
      data,
      ...extra,
    }),
  );

const headers = (...pairs: Array<[string, string]>) =>
  pairs.map(([name, value]) => ({ name, value }));

describe('parseWebhookEvent', () => {
  it('reads the call id, the caller and the dialled number from a realtime.call.incoming', () => {
    const result = parseWebhookEvent(
      incoming({
        call_id: 'rtc_abc123',
        sip_headers: headers(
          ['From', '"Ann" <sip:+15551230001@pstn.twilio.com>;tag=a1'],
          ['To', '<sip:+15551230002@proj_x.sip.api.openai.com;user=phone>'],
          ['Call-ID', 'f00d@10.0.0.1'],
        ),
      }),
    );
    expect(result).toEqual({
      kind: 'incoming',
      call: expect.objectContaining({
        eventId: 'evt_1',
        callId: 'rtc_abc123',
        from: '+15551230001',
        to: '+15551230002',
        sipCallId: 'f00d@10.0.0.1',
      }),
    });
  });

  it('tolerates fields it does not know, at the top and in data', () => {
    const result = parseWebhookEvent(
      incoming(
        { call_id: 'rtc_1', sip_headers: [], sip_media_security: { srtp: true } },
        { api_version: '2099-01-01' },
      ),
    );
    expect(result.kind).toBe('incoming');
  });

  it('ignores other event types', () => {
    const body = Buffer.from(JSON.stringify({ type: 'batch.completed', data: { id: 'b' } }));
    expect(parseWebhookEvent(body)).toEqual({ kind: 'ignored', type: 'batch.completed' });
  });

  it.each([
    ['not JSON', Buffer.from('{nope')],
    ['no type', Buffer.from('{"data":{}}')],
    ['no call id', incoming({ sip_headers: [] })],
    ['a call id that would escape its URL path', incoming({ call_id: 'rtc_1/../../x' })],
    ['headers that are not a list', incoming({ call_id: 'rtc_1', sip_headers: 'From: x' })],
    [
      'more than 64 headers',
      incoming({
        call_id: 'rtc_1',
        sip_headers: Array.from({ length: 65 }, (_, i) => ({ name: `X-H${i}`, value: 'v' })),
      }),
    ],
    [
      'a header value over 1024 characters',
      incoming({ call_id: 'rtc_1', sip_headers: headers(['X-Big', 'x'.repeat(1025)]) }),
    ],
    [
      'control characters in a value',
      incoming({ call_id: 'rtc_1', sip_headers: headers(['From', 'sip:a@b\r\nX-Evil: 1']) }),
    ],
    [
      'a header name that is not a token',
      incoming({ call_id: 'rtc_1', sip_headers: headers(['Bad Name', 'v']) }),
    ],
    ['a header without a value', incoming({ call_id: 'rtc_1', sip_headers: [{ name: 'To' }] })],
  ])('calls a body with %s invalid', (_what, body) => {
    expect(parseWebhookEvent(body).kind).toBe('invalid');
  });
});

describe('userOfSipAddress', () => {
  it.each([
    ['<sip:+15551230002@sip.api.openai.com>', '+15551230002'],
    ['"Bob" <sips:15551230002@host:5061;transport=tls>;tag=9', '15551230002'],
    ['tel:+1-555-123-0002', '+15551230002'],
    ['sip:alice@example.com', 'alice'],
    ['sip:%2B15551230002@host', '+15551230002'],
    ['<http://example.com>', undefined],
    ['sip:<script>@x', undefined],
    [undefined, undefined],
  ])('reads %s as %s', (value, expected) => {
    expect(userOfSipAddress(value)).toBe(expected);
  });
});
