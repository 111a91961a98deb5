import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  loggedUrl,
  MAX_LOGGED_HEADER_CHARS,
  MAX_LOGGED_HEADERS,
  MAX_LOGGED_URL_CHARS,
  requestLogOptions,
} from './request-log.options.js';
import { TRUNCATION_MARKER } from '../text/text-bound.js';

type Serialize = (req: Record<string, unknown>) => Record<string, unknown>;

describe('request log lines', () => {
  const options = requestLogOptions('info');
  const serializeReq = (options.serializers as { req: Serialize }).req;

  it('log a URL with its credentials redacted, cut to MAX_LOGGED_URL_CHARS', () => {
    expect(loggedUrl('/api/calls?token=s3cret&x=1')).toBe('/api/calls?token=[redacted]&x=1');
    const long = loggedUrl(`/console?${'a'.repeat(16_000)}`);
    expect(long).toHaveLength(MAX_LOGGED_URL_CHARS + TRUNCATION_MARKER.length);
    expect(long.endsWith(TRUNCATION_MARKER)).toBe(true);
  });

  it('keep of a request its cut URL and its first headers, each cut, and not the parsed query', () => {
    const headers = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`x-h${i}`, 'v'.repeat(1000)]),
    );
    const req = serializeReq({
      url: `/console?token=s3cret&${'q'.repeat(8000)}`,
      query: { token: 's3cret', [`${'q'.repeat(8000)}`]: '' },
      headers,
    });
    expect(req.query).toBeUndefined();
    expect(String(req.url).startsWith('/console?token=[redacted]&qqq')).toBe(true);
    expect(String(req.url).length).toBeLessThanOrEqual(MAX_LOGGED_URL_CHARS + 20);
    const kept = req.headers as Record<string, string>;
    expect(Object.keys(kept)).toHaveLength(MAX_LOGGED_HEADERS);
    expect(kept['x-h0']).toHaveLength(MAX_LOGGED_HEADER_CHARS + TRUNCATION_MARKER.length);
    expect(JSON.stringify(req).length).toBeLessThan(6000);
  });

  it("write a refused request's line with the URL cut", () => {
    const successObject = options.customSuccessObject as (
      req: IncomingMessage,
      res: ServerResponse,
      val: Record<string, unknown>,
    ) => Record<string, unknown>;
    const line = successObject(
      { method: 'GET', url: `/api/calls?${'a'.repeat(16_000)}` } as IncomingMessage,
      { statusCode: 401 } as ServerResponse,
      { responseTime: 1 },
    );
    expect(String(line.request).length).toBeLessThanOrEqual(
      'GET '.length + MAX_LOGGED_URL_CHARS + TRUNCATION_MARKER.length,
    );
    expect(line).toEqual({
      request: expect.any(String) as unknown,
      statusCode: 401,
      responseTime: 1,
    });
  });

  it("writes a public route's answer as a short, throttled line, and an API answer in full", () => {
    const fresh = requestLogOptions('info');
    const level = fresh.customLogLevel as (req: IncomingMessage, res: ServerResponse) => string;
    const object = fresh.customSuccessObject as (
      req: IncomingMessage,
      res: ServerResponse,
      val: Record<string, unknown>,
    ) => Record<string, unknown>;
    const ok = { statusCode: 200 } as ServerResponse;
    const page = (url: string) => ({ method: 'GET', url }) as IncomingMessage;

    for (const url of [
      '/console',
      '/console/',
      '/console/session',
      '/console/assets/app.js',
      '/voice/console?x',
    ]) {
      expect(Object.keys(object(page(url), ok, { responseTime: 1 }))).toEqual([
        'request',
        'statusCode',
        'responseTime',
      ]);
    }
    for (const url of ['/console/api/calls', '/api/calls?next=/console']) {
      expect(object(page(url), ok, { responseTime: 1 })).toHaveProperty('req');
      expect(level(page(url), ok)).toBe('info');
    }
    const levels = Array.from({ length: 200 }, () =>
      level(page('/console'), { ...ok } as ServerResponse),
    );
    expect(levels.filter((l) => l === 'info').length).toBeLessThan(60);
    expect(levels.at(-1)).toBe('silent');
  });
});
