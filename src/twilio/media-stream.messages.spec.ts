import { parseTwilioFrame, twilioOutbound } from './media-stream.messages.js';

const start = {
  event: 'start',
  sequenceNumber: '1',
  streamSid: 'MZ00000000000000000000000000000001',
  start: {
    accountSid: 'AC0000000000000000000000000000000a',
    callSid: 'CA0000000000000000000000000000000b',
    streamSid: 'MZ00000000000000000000000000000001',
    tracks: ['inbound'],
    customParameters: { tenant: 'acme', token: 't' },
    mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
  },
};

const media = (payload: unknown) =>
  JSON.stringify({
    event: 'media',
    sequenceNumber: '2',
    streamSid: 'MZ1',
    media: { track: 'inbound', chunk: '1', timestamp: '0', payload },
  });

describe('parseTwilioFrame', () => {
  it('parses a start frame with its custom parameters', () => {
    const result = parseTwilioFrame(JSON.stringify(start));
    expect(result).toEqual({ ok: true, frame: expect.objectContaining({ event: 'start' }) });
    if (result.ok && result.frame.event === 'start') {
      expect(result.frame.start.callSid).toBe('CA0000000000000000000000000000000b');
      expect(result.frame.start.customParameters).toEqual({ tenant: 'acme', token: 't' });
    }
  });

  it('strips control characters from custom parameter names and values, keeping real text', () => {
    const customParameters = {
      'Fr\u0000om': '+1555\r\nwarn forged log line\u001b[31m',
      profile: 'Zoë 😀\u0007',
      '\u0085': 'a name of nothing but control characters is dropped',
    };
    const result = parseTwilioFrame(
      JSON.stringify({ ...start, start: { ...start.start, customParameters } }),
    );
    if (!result.ok || result.frame.event !== 'start') throw new Error('not parsed');
    expect(result.frame.start.customParameters).toEqual({
      From: '+1555warn forged log line[31m',
      profile: 'Zoë 😀',
    });
  });

  it('parses media, mark, dtmf, stop and connected frames', () => {
    expect(parseTwilioFrame(media('/////w==')).ok).toBe(true);
    expect(parseTwilioFrame('{"event":"mark","streamSid":"MZ1","mark":{"name":"m1"}}').ok).toBe(
      true,
    );
    expect(
      parseTwilioFrame(
        '{"event":"dtmf","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"5"}}',
      ).ok,
    ).toBe(true);
    expect(parseTwilioFrame('{"event":"stop","streamSid":"MZ1","stop":{"callSid":"CA1"}}').ok).toBe(
      true,
    );
    expect(parseTwilioFrame('{"event":"connected","protocol":"Call","version":"1.0.0"}').ok).toBe(
      true,
    );
  });

  it.each([
    ['not JSON', 'hello'],
    ['a JSON array', '[1,2]'],
    ['an unknown event', '{"event":"party"}'],
    ['media without payload', '{"event":"media","streamSid":"MZ1","media":{}}'],
    ['media with invalid base64', media('not base64!')],
    ['media with a numeric payload', media(42)],
    ['media with an empty payload', media('')],
    [
      'start without callSid',
      JSON.stringify({ ...start, start: { ...start.start, callSid: undefined } }),
    ],
    [
      'start with a quote in streamSid',
      JSON.stringify({ ...start, streamSid: 'MZ"1', start: { ...start.start, streamSid: 'MZ"1' } }),
    ],
    [
      'start with a non-string parameter',
      JSON.stringify({ ...start, start: { ...start.start, customParameters: { a: 1 } } }),
    ],
    [
      'start in another audio format',
      JSON.stringify({
        ...start,
        start: {
          ...start.start,
          mediaFormat: { encoding: 'audio/l16', sampleRate: 16000, channels: 1 },
        },
      }),
    ],
    ['dtmf with a bogus digit', '{"event":"dtmf","streamSid":"MZ1","dtmf":{"digit":"xx"}}'],
  ])('rejects %s with a reason', (_name, text) => {
    const result = parseTwilioFrame(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
  });
});

describe('twilioOutbound', () => {
  it('builds media, mark and clear frames that are valid JSON', () => {
    expect(JSON.parse(twilioOutbound.media('MZ1', 'AAAA'))).toEqual({
      event: 'media',
      streamSid: 'MZ1',
      media: { payload: 'AAAA' },
    });
    expect(JSON.parse(twilioOutbound.mark('MZ1', 'm1'))).toEqual({
      event: 'mark',
      streamSid: 'MZ1',
      mark: { name: 'm1' },
    });
    expect(JSON.parse(twilioOutbound.clear('MZ1'))).toEqual({ event: 'clear', streamSid: 'MZ1' });
  });
});
