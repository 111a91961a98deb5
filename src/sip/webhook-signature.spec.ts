import { Webhook } from 'standardwebhooks';
import { WebhookVerifier } from './webhook-signature.js';

const SECRET = `whsec_${Buffer.from('a 32-byte key for webhook tests!').toString('base64')}`;
const BODY = Buffer.from(
  '{"object":"event","id":"evt_1","type":"realtime.call.incoming","created_at":1,' +
    '"data":{"call_id":"rtc_1","sip_headers":[{"name":"To","value":"<sip:+15551230002@x>"}]}}',
);
const NOW_MS = 1_800_000_000_000;
const nowS = String(NOW_MS / 1000);

/** Headers exactly as the independent standardwebhooks implementation signs them. */
function signedByStandardWebhooks(id: string, atMs: number, body: Buffer) {
  const signature = new Webhook(SECRET).sign(id, new Date(atMs), body);
  return { id, timestamp: String(Math.floor(atMs / 1000)), signature };
}

describe('WebhookVerifier', () => {
  const verifier = new WebhookVerifier(SECRET);

  it('accepts a delivery signed by the standardwebhooks package', () => {
    const headers = signedByStandardWebhooks('msg_1', NOW_MS, BODY);
    expect(verifier.verify(headers, BODY, NOW_MS)).toEqual({ ok: true, id: 'msg_1' });
  });

  it('signs what the standardwebhooks package verifies (same algorithm both ways)', () => {
    const signature = verifier.sign('msg_2', nowS, BODY);
    const headers = {
      'webhook-id': 'msg_2',
      'webhook-timestamp': nowS,
      'webhook-signature': signature,
    };
    const realNow = Date.now;
    Date.now = () => NOW_MS;
    try {
      expect(new Webhook(SECRET).verify(BODY, headers)).toMatchObject({ id: 'evt_1' });
    } finally {
      Date.now = realNow;
    }
  });

  it('accepts a header with several signatures when any one matches', () => {
    const good = signedByStandardWebhooks('msg_3', NOW_MS, BODY);
    const signature = `v1,${Buffer.alloc(32, 7).toString('base64')} v2,whatever ${good.signature}`;
    expect(verifier.verify({ ...good, signature }, BODY, NOW_MS).ok).toBe(true);
  });

  it('refuses a body changed after signing, by a single byte', () => {
    const headers = signedByStandardWebhooks('msg_4', NOW_MS, BODY);
    const tampered = Buffer.from(BODY.toString().replace('+15551230002', '+15551230009'));
    expect(verifier.verify(headers, tampered, NOW_MS)).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses a signature made with another secret', () => {
    const other = new Webhook(`whsec_${Buffer.from('another key entirely').toString('base64')}`);
    const signature = other.sign('msg_5', new Date(NOW_MS), BODY);
    const verdict = verifier.verify({ id: 'msg_5', timestamp: nowS, signature }, BODY, NOW_MS);
    expect(verdict).toMatchObject({
      ok: false,
      status: 401,
      reason: 'no webhook-signature matches',
    });
  });

  it('refuses the signature of another delivery id (the id is signed too)', () => {
    const headers = signedByStandardWebhooks('msg_6', NOW_MS, BODY);
    expect(verifier.verify({ ...headers, id: 'msg_7' }, BODY, NOW_MS).ok).toBe(false);
  });

  it('takes timestamps up to 300 s away and refuses 301 s, in the past and the future', () => {
    for (const [offsetS, ok] of [
      [-300, true],
      [300, true],
      [-301, false],
      [301, false],
    ] as const) {
      const headers = signedByStandardWebhooks('msg_t', NOW_MS + offsetS * 1000, BODY);
      expect(verifier.verify(headers, BODY, NOW_MS).ok).toBe(ok);
    }
  });

  it('refuses a missing header with 400, naming it, before any HMAC', () => {
    const headers = signedByStandardWebhooks('msg_8', NOW_MS, BODY);
    expect(verifier.verify({ ...headers, signature: undefined }, BODY, NOW_MS)).toEqual({
      ok: false,
      status: 400,
      reason: 'missing header webhook-signature',
    });
    expect(verifier.verify({}, BODY, NOW_MS)).toMatchObject({ status: 400 });
  });

  it('refuses malformed headers: a non-numeric timestamp, a spaced id, an oversized signature', () => {
    const headers = signedByStandardWebhooks('msg_9', NOW_MS, BODY);
    expect(verifier.verify({ ...headers, timestamp: '17e8' }, BODY, NOW_MS).ok).toBe(false);
    expect(verifier.verify({ ...headers, id: 'msg 9' }, BODY, NOW_MS).ok).toBe(false);
    const huge = `${'v1,AAAA '.repeat(400)}${headers.signature}`;
    expect(verifier.verify({ ...headers, signature: huge }, BODY, NOW_MS)).toMatchObject({
      status: 400,
    });
  });

  it('will not start without a whsec_ secret', () => {
    expect(() => new WebhookVerifier('not-a-secret')).toThrow(/whsec_/);
  });
});
