import type { TwilioConfig } from '../config/config.namespaces.js';
import { Secret } from '../config/secret.js';
import { StreamTokenService } from './stream-token.service.js';

const service = (authToken = 'auth', ttl = 300) =>
  new StreamTokenService({
    authToken: new Secret(authToken),
    streamTokenTtlS: ttl,
  } as TwilioConfig);

describe('StreamTokenService', () => {
  const now = Date.UTC(2026, 10, 26, 12, 0, 0);

  it('accepts a token for the call it was issued for', () => {
    expect(service().verify('CA1', service().issue('CA1', now), now + 1000)).toBe('valid');
  });

  it('refuses a token issued for another call', () => {
    expect(service().verify('CA2', service().issue('CA1', now), now)).toBe('invalid');
  });

  it('refuses a token made with another auth token', () => {
    expect(service('auth').verify('CA1', service('other').issue('CA1', now), now)).toBe('invalid');
  });

  it('refuses a missing, malformed or expired token', () => {
    expect(service().verify('CA1', undefined, now)).toBe('missing');
    expect(service().verify('CA1', 'garbage', now)).toBe('invalid');
    expect(service().verify('CA1', 'a.b.c', now)).toBe('invalid');
    expect(service().verify('CA1', 'abc.short', now)).toBe('invalid');
    expect(service().verify('CA1', `${service().issue('CA1', now)}.x`, now)).toBe('invalid');
    expect(service('auth', 60).verify('CA1', service().issue('CA1', now), now + 61_000)).toBe(
      'expired',
    );
  });

  it('is valid for its whole TTL, and 30 s ahead of our clock at most', () => {
    const tokens = service('auth', 60);
    const token = tokens.issue('CA1', now);
    expect(tokens.verify('CA1', token, now + 60_000)).toBe('valid');
    expect(tokens.verify('CA1', token, now + 60_001)).toBe('expired');
    expect(tokens.verify('CA1', token, now - 30_000)).toBe('valid');
    expect(tokens.verify('CA1', token, now - 30_001)).toBe('expired');
  });

  it('still issues tokens with no TWILIO_AUTH_TOKEN (signatures off, local experiments)', () => {
    const tokens = new StreamTokenService({ streamTokenTtlS: 300 } as TwilioConfig);
    expect(tokens.issue('CA1', now)).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
  });
});
