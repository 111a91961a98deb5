import { createHmac } from 'node:crypto';
import type { TwilioConfig } from '../config/config.namespaces.js';
import { Secret } from '../config/secret.js';
import { StreamTokenService, type BoundStreamParameters } from './stream-token.service.js';

const service = (authToken = 'auth', ttl = 300) =>
  new StreamTokenService({
    authToken: new Secret(authToken),
    streamTokenTtlS: ttl,
  } as TwilioConfig);

const CALLER: BoundStreamParameters = {
  From: '+15550001111',
  To: '+15550002222',
  Direction: 'inbound',
};

describe('StreamTokenService', () => {
  const now = Date.UTC(2026, 10, 26, 12, 0, 0);
  /** `start.customParameters` as Twilio gives back the TwiML's parameters. */
  const started = (token: string | undefined, bound: BoundStreamParameters = CALLER) => ({
    ...(bound as Record<string, string>),
    ...(token === undefined ? {} : { token }),
  });

  it('accepts a token for the call and parameters it was issued for', () => {
    const token = service().issue('CA1', CALLER, now);
    expect(service().verify('CA1', started(token), now + 1000)).toBe('valid');
  });

  it('refuses a token issued for another call', () => {
    expect(service().verify('CA2', started(service().issue('CA1', CALLER, now)), now)).toBe(
      'invalid',
    );
  });

  it('refuses a token made with another auth token', () => {
    const token = service('other').issue('CA1', CALLER, now);
    expect(service('auth').verify('CA1', started(token), now)).toBe('invalid');
  });

  it('refuses a start whose caller, number, direction or profile differ from the TwiML', () => {
    const token = service().issue('CA1', { ...CALLER, profile: 'standard' }, now);
    const as = (bound: BoundStreamParameters) =>
      service().verify('CA1', started(token, bound), now);
    expect(as({ ...CALLER, profile: 'standard' })).toBe('valid');
    expect(as({ ...CALLER, From: '+19005550199', profile: 'standard' })).toBe('mismatched');
    expect(as({ ...CALLER, To: '+18005550100', profile: 'standard' })).toBe('mismatched');
    expect(as({ ...CALLER, Direction: 'outbound-api', profile: 'standard' })).toBe('mismatched');
    expect(as({ ...CALLER, profile: 'vip' })).toBe('mismatched');
    expect(as({ ...CALLER, profile: '' })).toBe('mismatched');
  });

  it('refuses a parameter the TwiML did not give, and lets one be left out', () => {
    const token = service().issue('CA1', CALLER, now);
    expect(service().verify('CA1', started(token, { ...CALLER, profile: 'vip' }), now)).toBe(
      'mismatched',
    );
    expect(service().verify('CA1', started(token, { From: CALLER.From }), now)).toBe('valid');
  });

  it('refuses digests changed under the MAC', () => {
    const token = service().issue('CA1', CALLER, now);
    const [issuedAt, mac] = token.split('.');
    const forged = `${issuedAt}.${mac}.${Buffer.alloc(24).toString('base64url')}`;
    expect(service().verify('CA1', started(forged), now)).toBe('invalid');
  });

  it('takes a token of the version before (two parts, not bound), as a rolling deploy needs', () => {
    const issuedAt = Math.floor(now / 1000).toString(36);
    const mac = createHmac('sha256', 'auth').update(`CA1.${issuedAt}`).digest('base64url');
    expect(service().verify('CA1', started(`${issuedAt}.${mac}`), now)).toBe('valid');
    expect(service().verify('CA2', started(`${issuedAt}.${mac}`), now)).toBe('invalid');
  });

  it('refuses a missing, malformed or expired token', () => {
    const token = service().issue('CA1', CALLER, now);
    expect(service().verify('CA1', started(undefined), now)).toBe('missing');
    expect(service().verify('CA1', started('garbage'), now)).toBe('invalid');
    expect(service().verify('CA1', started('a.b.c'), now)).toBe('invalid');
    expect(service().verify('CA1', started('abc.short'), now)).toBe('invalid');
    expect(service().verify('CA1', started(`${token}.x`), now)).toBe('invalid');
    expect(service('auth', 60).verify('CA1', started(token), now + 61_000)).toBe('expired');
  });

  it('is valid for its whole TTL, and 30 s ahead of our clock at most', () => {
    const tokens = service('auth', 60);
    const token = started(tokens.issue('CA1', CALLER, now));
    expect(tokens.verify('CA1', token, now + 60_000)).toBe('valid');
    expect(tokens.verify('CA1', token, now + 60_001)).toBe('expired');
    expect(tokens.verify('CA1', token, now - 30_000)).toBe('valid');
    expect(tokens.verify('CA1', token, now - 30_001)).toBe('expired');
  });

  it('shows nothing of the numbers it is bound to', () => {
    const token = service().issue('CA1', CALLER, now);
    expect(token).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{32}$/);
    expect(token).not.toContain('5550001111');
    // The same numbers under another auth token give other digests.
    expect(service('other').issue('CA1', CALLER, now).split('.')[2]).not.toBe(token.split('.')[2]);
  });

  it('still issues tokens with no TWILIO_AUTH_TOKEN (signatures off, local experiments)', () => {
    const tokens = new StreamTokenService({ streamTokenTtlS: 300 } as TwilioConfig);
    expect(tokens.issue('CA1', {}, now)).toMatch(
      /^[0-9a-z]+\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{32}$/,
    );
  });
});
