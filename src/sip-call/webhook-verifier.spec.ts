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
    expect(await verify({})).toMatchObject({ status: 400 });
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

  it('refuses a body that is not UTF-8 (400): the text verified must be the bytes sent', async () => {
    const body = Buffer.concat([BODY, Buffer.from([0xff])]);
    const headers = signedByStandardWebhooks('msg_10', NOW_MS, body);
    expect(await verify(headers, body)).toMatchObject({ ok: false, status: 400 });
  });
});
