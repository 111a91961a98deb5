import { busyTwiml, streamTwiml, twimlText } from './twiml.js';
import { InvalidHostError, mediaStreamUrl, publicBaseUrl } from './public-url.js';
import type { IncomingMessage } from 'node:http';

describe('streamTwiml', () => {
  it('connects a bidirectional stream with one Parameter per value', () => {
    expect(
      streamTwiml({
        streamUrl: 'wss://voice.example.com/media-stream',
        parameters: { CallSid: 'CA1', From: '+1 & co', To: undefined },
      }),
    ).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://voice.example.com/media-stream">' +
        '<Parameter name="CallSid" value="CA1"/><Parameter name="From" value="+1 &amp; co"/></Stream></Connect></Response>',
    );
  });

  it('says the recording notice before it connects the stream', () => {
    const xml = streamTwiml({
      streamUrl: 'wss://voice.example.com/media-stream',
      parameters: {},
      notice: 'This call is recorded <for quality>.',
    });
    expect(xml).toMatch(
      /<Response><Say>This call is recorded &lt;for quality&gt;\.<\/Say><Connect><Stream /,
    );
  });

  it('strips control characters and lone surrogates from values, keeping real text', () => {
    expect(twimlText('+1555\u0000\u0007\u001b[31m\u007f\u0085 Zoë 😀\uD800\uFFFF')).toBe(
      '+1555[31m Zoë 😀',
    );
    const xml = streamTwiml({
      streamUrl: 'wss://voice.example.com/media-stream',
      parameters: { From: 'a\u0001b\u000bc' },
    });
    expect(xml).toContain('<Parameter name="From" value="abc"/>');
  });

  it('tells the caller the line is busy and hangs up', () => {
    expect(busyTwiml()).toMatch(/<Say>.*busy.*<\/Say><Hangup\/><\/Response>$/);
  });
});

describe('public URLs', () => {
  const req = (headers: Record<string, string>) =>
    ({ headers, socket: {} }) as unknown as IncomingMessage;

  it('keeps host, port and path prefix and maps https to wss, http to ws', () => {
    expect(mediaStreamUrl('https://voice.example.com')).toBe(
      'wss://voice.example.com/media-stream',
    );
    expect(mediaStreamUrl('http://localhost:8080')).toBe('ws://localhost:8080/media-stream');
    expect(mediaStreamUrl('https://voice.example.com:8443/prefix')).toBe(
      'wss://voice.example.com:8443/prefix/media-stream',
    );
    expect(mediaStreamUrl('https://example.com/voice/')).toBe(
      'wss://example.com/voice/media-stream',
    );
  });

  it('prefers PUBLIC_URL over anything the request says', () => {
    expect(
      publicBaseUrl(req({ host: 'pod:8080' }), {
        publicUrl: 'https://voice.example.com',
        trustProxy: true,
      }),
    ).toBe('https://voice.example.com');
  });

  it('ignores X-Forwarded-* unless the proxy is trusted', () => {
    const headers = {
      host: 'pod:8080',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'edge.example.com, inner',
    };
    expect(publicBaseUrl(req(headers), { trustProxy: false })).toBe('http://pod:8080');
    expect(publicBaseUrl(req(headers), { trustProxy: true })).toBe('https://edge.example.com');
  });
});

describe('hosts that cannot name a URL', () => {
  const req = (headers: Record<string, string>) =>
    ({ headers, socket: {} }) as unknown as IncomingMessage;

  it.each(['exa mple.com', 'a/b', 'host:port', 'x@y', '[::1', 'a'.repeat(400), 'h\u0000'])(
    'refuses Host %p',
    (host) => {
      expect(() => publicBaseUrl(req({ host }), { trustProxy: false })).toThrow(InvalidHostError);
    },
  );

  it('refuses a bad X-Forwarded-Host or -Proto only when proxies are trusted', () => {
    const headers = { host: 'ok.example.com', 'x-forwarded-host': 'bad host' };
    expect(publicBaseUrl(req(headers), { trustProxy: false })).toBe('http://ok.example.com');
    expect(() => publicBaseUrl(req(headers), { trustProxy: true })).toThrow(InvalidHostError);
    expect(() =>
      publicBaseUrl(req({ host: 'ok.example.com', 'x-forwarded-proto': 'javascript' }), {
        trustProxy: true,
      }),
    ).toThrow(InvalidHostError);
  });

  it('accepts names, IPv4 and bracketed IPv6 with ports', () => {
    for (const host of ['voice.example.com', '127.0.0.1:8080', '[::1]:3000', 'localhost']) {
      expect(publicBaseUrl(req({ host }), { trustProxy: false })).toBe(`http://${host}`);
    }
  });
});
