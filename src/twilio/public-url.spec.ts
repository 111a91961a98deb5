import type { IncomingMessage } from 'node:http';
import {
  InvalidHostError,
  isInsecureStreamUrl,
  isLocalEnvironment,
  mediaStreamUrl,
  publicBaseUrl,
  streamStatusUrl,
} from './public-url.js';

function request(headers: Record<string, string>, encrypted = false): IncomingMessage {
  return { headers, socket: { encrypted } } as unknown as IncomingMessage;
}

describe('publicBaseUrl', () => {
  it('is PUBLIC_URL when set, whatever the request says', () => {
    const req = request({ host: 'evil.example.com', 'x-forwarded-host': 'evil.example.com' });
    expect(publicBaseUrl(req, { publicUrl: 'https://ours.example.com', trustProxy: true })).toBe(
      'https://ours.example.com',
    );
  });

  it('is derived from Host and the socket without a proxy', () => {
    expect(
      publicBaseUrl(request({ host: 'a.example.com:8443' }, true), { trustProxy: false }),
    ).toBe('https://a.example.com:8443');
    expect(publicBaseUrl(request({ host: '10.0.0.1' }), { trustProxy: false })).toBe(
      'http://10.0.0.1',
    );
    expect(publicBaseUrl(request({ host: '[::1]:3000' }), { trustProxy: false })).toBe(
      'http://[::1]:3000',
    );
  });

  it('ignores X-Forwarded-* unless the proxy is trusted', () => {
    const headers = {
      host: 'pod:8080',
      'x-forwarded-proto': 'https, http',
      'x-forwarded-host': 'public.example.com, pod',
    };
    expect(publicBaseUrl(request(headers), { trustProxy: false })).toBe('http://pod:8080');
    expect(publicBaseUrl(request(headers), { trustProxy: true })).toBe(
      'https://public.example.com',
    );
    const spaced = {
      host: 'pod',
      'x-forwarded-proto': 'https , http',
      'x-forwarded-host': 'a.b ,c',
    };
    expect(publicBaseUrl(request(spaced), { trustProxy: true })).toBe('https://a.b');
  });

  it('maps a WebSocket scheme from the proxy to its HTTP twin', () => {
    const wss = request({ host: 'h', 'x-forwarded-proto': 'WSS' });
    const ws = request({ host: 'h', 'x-forwarded-proto': 'ws' });
    expect(publicBaseUrl(wss, { trustProxy: true })).toBe('https://h');
    expect(publicBaseUrl(ws, { trustProxy: true })).toBe('http://h');
  });

  it('refuses a Host or scheme that cannot name a URL', () => {
    const bad = (headers: Record<string, string>) => () =>
      publicBaseUrl(request(headers), { trustProxy: true });
    expect(bad({ host: 'a b' })).toThrow(InvalidHostError);
    expect(bad({ host: 'evil.com/path' })).toThrow(InvalidHostError);
    expect(bad({ host: 'a'.repeat(301) })).toThrow(InvalidHostError);
    expect(bad({ host: 'a b' })).toThrow(expect.objectContaining({ name: 'InvalidHostError' }));
    expect(bad({ host: '-bad.example.com' })).toThrow(InvalidHostError);
    expect(bad({ host: 'h', 'x-forwarded-proto': 'javascript' })).toThrow('X-Forwarded-Proto');
    expect(bad({ host: 'h', 'x-forwarded-host': 'x y' })).toThrow('X-Forwarded-Host');
  });

  it('takes a well-formed Host of up to 300 characters, and not one more', () => {
    const labels = `${'a'.repeat(63)}.`.repeat(4);
    const host = (length: number) => `${labels}${'b'.repeat(length - labels.length)}`;
    const base = (length: number) => () =>
      publicBaseUrl(request({ host: host(length) }), { trustProxy: false });
    expect(base(300)()).toBe(`http://${host(300)}`);
    expect(base(301)).toThrow(InvalidHostError);
  });

  it('names only Host in the error when no proxy is trusted', () => {
    expect(() => publicBaseUrl(request({ host: 'a b' }), { trustProxy: false })).toThrow(
      /^invalid Host$/,
    );
  });

  it('defaults a request with no Host to localhost', () => {
    expect(publicBaseUrl(request({}), { trustProxy: false })).toBe('http://localhost');
  });
});

describe('the stream and status URLs', () => {
  it('is wss for https, ws for http, keeping a path prefix', () => {
    expect(mediaStreamUrl('https://a.example.com')).toBe('wss://a.example.com/media-stream');
    expect(mediaStreamUrl('http://a:3000/voice/')).toBe('ws://a:3000/voice/media-stream');
    expect(mediaStreamUrl('https://a/voice//')).toBe('wss://a/voice/media-stream');
    expect(isInsecureStreamUrl('ws://a/media-stream')).toBe(true);
    expect(isInsecureStreamUrl('wss://a/media-stream')).toBe(false);
    expect(streamStatusUrl('https://a')).toBe('https://a/api/stream-status');
  });
});

describe('isLocalEnvironment (where ws:// and http:// pass without a warning)', () => {
  it('is true for development and test only', () => {
    expect(isLocalEnvironment('development')).toBe(true);
    expect(isLocalEnvironment('test')).toBe(true);
    expect(isLocalEnvironment('production')).toBe(false);
    expect(isLocalEnvironment('')).toBe(false);
    expect(isLocalEnvironment('staging')).toBe(false);
  });
});
