import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { Secret } from '../config/secret.js';
import { BUS_MESSAGE_WINDOW_MS, BusEnvelope } from './bus-envelope.js';

const SECRET = 'envelope-spec-secret-0123456789abcdef';
const CHANNEL = 'bridge:control:A';
const body = { type: 'control', command: { action: 'hangup' } };

/** An envelope built by hand from the documented format (docs/security.md), not by our code. */
function handMade(secret: string, channel: string, ts: number, text: string): string {
  const mac = createHmac('sha256', secret)
    .update(`bridge-bus/v1\n${channel}\n${ts}\n${text}`)
    .digest('hex');
  return JSON.stringify({ v: 1, ts, body: text, mac });
}

describe('BusEnvelope', () => {
  let now = 1_800_000_000_000;
  const envelope = new BusEnvelope(new Secret(SECRET), () => now);

  it('opens what it sealed, and what the documented format signs', () => {
    expect(envelope.open(CHANNEL, envelope.seal(CHANNEL, body))).toEqual({
      ok: true,
      body,
      ts: now,
    });
    const text = JSON.stringify(body);
    expect(envelope.open(CHANNEL, handMade(SECRET, CHANNEL, now, text))).toMatchObject({
      ok: true,
      body,
    });
  });

  it('refuses a message signed with a different CLUSTER_SECRET', () => {
    const other = new BusEnvelope(new Secret('another-cluster-secret-0123456789ab'), () => now);
    expect(envelope.open(CHANNEL, other.seal(CHANNEL, body))).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('refuses a timestamp outside the window, either way, and one altered after signing', () => {
    const sealed = envelope.seal(CHANNEL, body);
    now += BUS_MESSAGE_WINDOW_MS + 1;
    expect(envelope.open(CHANNEL, sealed)).toEqual({ ok: false, reason: 'expired' });
    const ahead = handMade(SECRET, CHANNEL, now + BUS_MESSAGE_WINDOW_MS + 1, '{}');
    expect(envelope.open(CHANNEL, ahead)).toEqual({ ok: false, reason: 'expired' });
    expect(envelope.open(CHANNEL, handMade(SECRET, CHANNEL, now - 1000, '{}')).ok).toBe(true);
    // The window's edges are in it.
    const edge = now - BUS_MESSAGE_WINDOW_MS;
    expect(envelope.open(CHANNEL, handMade(SECRET, CHANNEL, edge, '{}')).ok).toBe(true);
    expect(
      envelope.open(CHANNEL, handMade(SECRET, CHANNEL, now + BUS_MESSAGE_WINDOW_MS, '{}')).ok,
    ).toBe(true);
    expect(envelope.open(CHANNEL, handMade(SECRET, CHANNEL, now, '{}'), 1000).ok).toBe(true);
    expect(envelope.open(CHANNEL, handMade(SECRET, CHANNEL, now - 1001, '{}'), 1000)).toEqual({
      ok: false,
      reason: 'expired',
    });
    // Made fresh by hand without the secret: the MAC no longer matches.
    const refreshed = { ...(JSON.parse(sealed) as object), ts: now };
    expect(envelope.open(CHANNEL, JSON.stringify(refreshed))).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('refuses a message moved to another channel, or with its body changed', () => {
    const sealed = envelope.seal(CHANNEL, body);
    expect(envelope.open('bridge:control:B', sealed)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    const changed = sealed.replace('hangup', 'hangUp');
    expect(envelope.open(CHANNEL, changed)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses plain JSON, junk and malformed envelopes without throwing', () => {
    for (const text of [
      JSON.stringify(body),
      'not json',
      '',
      JSON.stringify({ v: 1, ts: now, body: '{}', mac: 'zz' }),
      JSON.stringify({ v: 1, ts: now, body: '{}', mac: '0'.repeat(64), extra: 1 }),
      JSON.stringify({ v: 2, ts: now, body: '{}', mac: '0'.repeat(64) }),
      JSON.stringify({ v: 1, ts: now, body: '{}', mac: '0'.repeat(63) }),
      JSON.stringify({ v: 1, ts: now, body: '{}', mac: '0'.repeat(65) }),
      JSON.stringify({ v: 1, ts: now, body: '{}', mac: `z${'0'.repeat(64)}` }),
      JSON.stringify({ v: 1, ts: now, body: '{}', mac: `${'0'.repeat(64)}z` }),
      JSON.stringify({ v: 1, ts: now, body: '{}', mac: 'A'.repeat(64) }),
      JSON.stringify({ v: 1, ts: -1, body: '{}', mac: '0'.repeat(64) }),
      JSON.stringify({ v: 1, ts: 1.5, body: '{}', mac: '0'.repeat(64) }),
      JSON.stringify({ v: 1, ts: now, body: {}, mac: '0'.repeat(64) }),
    ]) {
      expect(envelope.open(CHANNEL, text)).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(envelope.open(CHANNEL, handMade(SECRET, CHANNEL, now, '{nope'))).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('never shows its key', () => {
    expect(inspect(envelope, { showHidden: true, depth: 5 })).not.toContain(SECRET);
    expect(JSON.stringify(envelope)).not.toContain(SECRET);
  });
});
