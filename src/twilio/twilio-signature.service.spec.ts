import { BadRequestException } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import twilio from 'twilio';
import type { ServerConfig, TwilioConfig } from '../config/config.namespaces.js';
import { Secret } from '../config/secret.js';
import type { BridgeMount } from '../http/bridge-mount.service.js';
import { TwilioSignatureService } from './twilio-signature.service.js';

const AUTH_TOKEN = '0123456789abcdef0123456789abcdef';

function service(
  options: { validate?: boolean; publicUrl?: string; trustProxy?: boolean; mount?: string } = {},
): TwilioSignatureService {
  return new TwilioSignatureService(
    { publicUrl: options.publicUrl, trustProxy: options.trustProxy ?? false } as ServerConfig,
    {
      authToken: new Secret(AUTH_TOKEN),
      validateSignatures: options.validate ?? true,
    } as TwilioConfig,
    { path: options.mount ?? '' } as BridgeMount,
  );
}

/** A request as Node hands it to us: headers, method, URL, and the socket's TLS state. */
function request(
  headers: Record<string, string>,
  extra: { method?: string; url?: string; originalUrl?: string; body?: unknown } = {},
): IncomingMessage & { originalUrl?: string; body?: unknown } {
  return {
    headers,
    method: extra.method ?? 'GET',
    url: extra.url ?? '/',
    originalUrl: extra.originalUrl,
    body: extra.body,
    socket: { encrypted: false },
  } as unknown as IncomingMessage & { originalUrl?: string; body?: unknown };
}

/** What Twilio sends: computed with the `twilio` package's own helper, never with our code. */
const sign = (url: string, params: Record<string, string> = {}) =>
  twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);

describe('TwilioSignatureService', () => {
  describe('the media stream handshake', () => {
    it('accepts the signature Twilio makes over wss://host/media-stream', () => {
      const req = request({
        host: 'bridge.example.com',
        'x-twilio-signature': sign('wss://bridge.example.com/media-stream'),
      });
      expect(service({ publicUrl: 'https://bridge.example.com' }).verifyHandshake(req)).toBe(
        'valid',
      );
    });

    it('refuses a signature made for another host', () => {
      const req = request({
        host: 'bridge.example.com',
        'x-twilio-signature': sign('wss://evil.example.com/media-stream'),
      });
      expect(service({ publicUrl: 'https://bridge.example.com' }).verifyHandshake(req)).toBe(
        'invalid',
      );
    });

    it('checks the stream URL under the application’s mount (global prefix), as the TwiML gave it', () => {
      const req = request({
        host: 'bridge.example.com',
        'x-twilio-signature': sign('wss://bridge.example.com/voice/media-stream'),
      });
      const mounted = service({ publicUrl: 'https://bridge.example.com', mount: '/voice' });
      expect(mounted.verifyHandshake(req)).toBe('valid');
      expect(service({ publicUrl: 'https://bridge.example.com' }).verifyHandshake(req)).toBe(
        'invalid',
      );
    });

    it('reports a missing signature as missing, not valid', () => {
      expect(service().verifyHandshake(request({ host: 'bridge.example.com' }))).toBe('missing');
    });

    it('reports disabled when the operator turned signatures off', () => {
      const req = request({ host: 'h', 'x-twilio-signature': 'anything' });
      expect(service({ validate: false }).verifyHandshake(req)).toBe('disabled');
      expect(service({ validate: false }).enabled).toBe(false);
      expect(service().enabled).toBe(true);
    });

    it('uses the first of repeated signature headers', () => {
      const good = sign('ws://bridge.local/media-stream');
      const req = request({ host: 'bridge.local' });
      (req.headers as Record<string, unknown>)['x-twilio-signature'] = [good, 'bad'];
      expect(service().verifyHandshake(req)).toBe('valid');
    });
  });

  describe('webhooks', () => {
    it('checks a form POST over the full URL and every body field', () => {
      const body = { CallSid: 'CA' + '0'.repeat(32), From: '+15550001111' };
      const url = 'https://bridge.example.com/api/twiml?profile=sales';
      const req = request(
        { host: 'bridge.example.com', 'x-twilio-signature': sign(url, body) },
        { method: 'POST', originalUrl: '/api/twiml?profile=sales', body },
      );
      expect(service({ publicUrl: 'https://bridge.example.com' }).verifyWebhook(req)).toBe('valid');
    });

    it('refuses a POST whose body was changed after signing', () => {
      const url = 'https://bridge.example.com/api/twiml';
      const req = request(
        {
          host: 'bridge.example.com',
          'x-twilio-signature': sign(url, { From: '+15550001111' }),
        },
        { method: 'POST', originalUrl: '/api/twiml', body: { From: '+19005550123' } },
      );
      expect(service({ publicUrl: 'https://bridge.example.com' }).verifyWebhook(req)).toBe(
        'invalid',
      );
    });

    it('signs a GET over its URL only', () => {
      const url = 'http://bridge.local/api/twiml?From=%2B15550001111';
      const req = request(
        { host: 'bridge.local', 'x-twilio-signature': sign(url) },
        { url: '/api/twiml?From=%2B15550001111' },
      );
      expect(service().verifyWebhook(req)).toBe('valid');
    });

    it('signs a GET over its URL only, even when a body parser left an object', () => {
      const url = 'http://bridge.local/api/twiml';
      const req = request(
        { host: 'bridge.local', 'x-twilio-signature': sign(url) },
        { url: '/api/twiml', body: { From: '+15550001111' } },
      );
      expect(service().verifyWebhook(req)).toBe('valid');
    });

    it('signs a POST without form fields over its URL only', () => {
      const url = 'http://bridge.local/api/twiml';
      for (const body of [undefined, null, 'From=%2B1555', ['+15550001111']]) {
        const req = request(
          { host: 'bridge.local', 'x-twilio-signature': sign(url) },
          { method: 'POST', url: '/api/twiml', body },
        );
        expect(service().verifyWebhook(req)).toBe('valid');
      }
    });

    it('honours X-Forwarded-* only when the operator trusts the proxy', () => {
      const url = 'https://public.example.com/api/twiml';
      const headers = {
        host: 'pod:8080',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'public.example.com',
        'x-twilio-signature': sign(url),
      };
      const req = () => request(headers, { url: '/api/twiml' });
      expect(service({ trustProxy: true }).verifyWebhook(req())).toBe('valid');
      expect(service({ trustProxy: false }).verifyWebhook(req())).toBe('invalid');
    });
  });

  it('answers a Host that cannot name a URL with a 400', () => {
    const req = request({ host: 'bad host/<>', 'x-twilio-signature': 'x' });
    expect(() => service().verifyHandshake(req)).toThrow(BadRequestException);
  });
});
