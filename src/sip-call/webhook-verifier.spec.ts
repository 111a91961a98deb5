import { Webhook } from 'standardwebhooks';
import type { OpenAIConfig } from '../config/config.namespaces.js';
import { Secret } from '../config/secret.js';
import { createOpenAIClient } from './openai-client.provider.js';
import { WebhookVerifier, type WebhookHeaders } from './webhook-verifier.js';

const SECRET = `whsec_${Buffer.from('a 32-byte key for webhook tests!').toString('base64')}`;
const BODY = Buffer.from(
  '{"object":"event","id":"evt_1","type":"realtime.call.incoming","created_at":1,' +
    '"data":{"call_id":"rtc_1","sip_headers":[{"name":"To","value":"<sip:+15551230002@x>"}]}}',
);
const NOW_MS = 1_800_000_000_000;

/** Headers exactly as the independent standardwebhooks implementation signs them. */
function signedByStandardWebhooks(id: string, atMs: number, body: Buffer, secret = SECRET) {
  const signature = new Webhook(secret).sign(id, new Date(atMs), body);
  return { id, timestamp: String(Math.floor(atMs / 1000)), signature };
}

describe('WebhookVerifier (the openai package, checked against standardwebhooks)', () => {
  const config = { apiKey: new Secret('sk-proj-unit'), apiBaseUrl: 'http://127.0.0.1:9/v1' };
  const verifier = new WebhookVerifier(createOpenAIClient(config as OpenAIConfig), SECRET);
  const realNow = Date.now;
  beforeEach(() => {
    // The SDK reads the clock itself: the tests fix it.
    Date.now = () => NOW_MS;
  });
  afterEach(() => {
    Date.now = realNow;
  });

  const verify = (headers: WebhookHeaders, body = BODY) => verifier.verify(headers, body);

  it('accepts a delivery signed by the standardwebhooks package', async () => {
    const headers = signedByStandardWebhooks('msg_1', NOW_MS, BODY);
    expect(await verify(headers)).toEqual({ ok: true, id: 'msg_1' });
  });

  it('accepts a header with several signatures when any one matches', async () => {
    const good = signedByStandardWebhooks('msg_3', NOW_MS, BODY);
    const signature = `v1,${Buffer.alloc(32, 7).toString('base64')} v2,whatever ${good.signature}`;
    expect((await verify({ ...good, signature })).ok).toBe(true);
  });

  it('refuses a body changed after signing, by a single byte (401)', async () => {
    const headers = signedByStandardWebhooks('msg_4', NOW_MS, BODY);
    const tampered = Buffer.from(BODY.toString().replace('+15551230002', '+15551230009'));
    expect(await verify(headers, tampered)).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses a signature made with another secret (401)', async () => {
    const other = `whsec_${Buffer.from('another key entirely').toString('base64')}`;
    const headers = signedByStandardWebhooks('msg_5', NOW_MS, BODY, other);
    expect(await verify(headers)).toMatchObject({
      ok: false,
      status: 401,
      reason: expect.stringMatching(/signature does not match/) as unknown,
    });
  });

  it('refuses the signature of another delivery id (the id is signed too)', async () => {
    const headers = signedByStandardWebhooks('msg_6', NOW_MS, BODY);
    expect(await verify({ ...headers, id: 'msg_7' })).toMatchObject({ ok: false, status: 401 });
  });

  it('takes timestamps up to 300 s away and refuses 301 s, in the past and the future', async () => {
    for (const [offsetS, ok] of [
      [-300, true],
      [300, true],
      [-301, false],
      [301, false],
    ] as const) {
      const headers = signedByStandardWebhooks('msg_t', NOW_MS + offsetS * 1000, BODY);
      expect(await verify(headers)).toMatchObject(ok ? { ok } : { ok, status: 401 });
    }
  });

  it('refuses a missing header with 400, naming it, before any HMAC', async () => {
    const headers = signedByStandardWebhooks('msg_8', NOW_MS, BODY);
    expect(await verify({ ...headers, signature: undefined })).toEqual({
      ok: false,
      status: 400,
      reason: 'missing header webhook-signature',
    });
    expect(await verify({ ...headers, id: undefined })).toEqual({
      ok: false,
      status: 400,
      reason: 'missing header webhook-id',
    });
    expect(await verify({})).toEqual({
      ok: false,
      status: 400,
      reason: 'missing header webhook-id, webhook-timestamp, webhook-signature',
    });
  });

  it('refuses malformed headers (400): a non-numeric timestamp, a spaced id, an oversized signature', async () => {
    const headers = signedByStandardWebhooks('msg_9', NOW_MS, BODY);
    // The SDK alone would read "1800000000e0" as 1800000000, a current timestamp.
    expect(await verify({ ...headers, timestamp: `${headers.timestamp}e0` })).toMatchObject({
      status: 400,
      reason: 'malformed webhook-timestamp',
    });
    expect(await verify({ ...headers, id: 'msg 9' })).toMatchObject({ status: 400 });
    const huge = `${'v1,AAAA '.repeat(400)}${headers.signature}`;
    expect(await verify({ ...headers, signature: huge })).toMatchObject({ status: 400 });
  });

  it('refuses a webhook-id of more than 256 characters, or with a control character', async () => {
    const long = signedByStandardWebhooks('m'.repeat(257), NOW_MS, BODY);
    expect(await verify(long)).toEqual({ ok: false, status: 400, reason: 'malformed webhook-id' });
    const atBound = signedByStandardWebhooks('m'.repeat(256), NOW_MS, BODY);
    expect(await verify(atBound)).toMatchObject({ ok: true });
    const control = signedByStandardWebhooks('msg\u007f', NOW_MS, BODY);
    expect(await verify(control)).toMatchObject({ status: 400 });
  });

  it('refuses a timestamp that is not 1 to 12 digits (400), before the SDK reads it', async () => {
    const headers = signedByStandardWebhooks('msg_11', NOW_MS, BODY);
    for (const timestamp of [`a${headers.timestamp}`, '1'.repeat(13), `${headers.timestamp} `]) {
      expect(await verify({ ...headers, timestamp })).toEqual({
        ok: false,
        status: 400,
        reason: 'malformed webhook-timestamp',
      });
    }
  });

  it('takes a signature header of exactly 2048 characters', async () => {
    const headers = signedByStandardWebhooks('msg_12', NOW_MS, BODY);
    const padding = `v1,${'A'.repeat(2048 - headers.signature.length - 4)}`;
    const signature = `${padding} ${headers.signature}`;
    expect(signature).toHaveLength(2048);
    expect(await verify({ ...headers, signature })).toMatchObject({ ok: true });
    expect(await verify({ ...headers, signature: `v1,A${signature}` })).toEqual({
      ok: false,
      status: 400,
      reason: 'webhook-signature too long',
    });
  });

  it('refuses a body that is not UTF-8 (400): the text verified must be the bytes sent', async () => {
    const body = Buffer.concat([BODY, Buffer.from([0xff])]);
    const headers = signedByStandardWebhooks('msg_10', NOW_MS, body);
    expect(await verify(headers, body)).toEqual({
      ok: false,
      status: 400,
      reason: 'the body is not UTF-8',
    });
  });

  it('verifies a body with a byte order mark as sent, the mark included', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), BODY]);
    const headers = signedByStandardWebhooks('msg_13', NOW_MS, body);
    expect(await verify(headers, body)).toMatchObject({ ok: true });
  });

  it('fails loudly, not as a bad signature, when the secret itself cannot be used', async () => {
    const config = { apiKey: new Secret('sk-proj-unit'), apiBaseUrl: 'http://127.0.0.1:9/v1' };
    const broken = new WebhookVerifier(createOpenAIClient(config as OpenAIConfig), 'whsec_%%%');
    const headers = signedByStandardWebhooks('msg_14', NOW_MS, BODY);
    await expect(broken.verify(headers, BODY)).rejects.toThrow();
  });
});
