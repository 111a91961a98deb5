import { Secret } from '../config/secret.js';
import { bearerToken, bearerTokenMatches, tokenMatches } from './bearer-token.js';

describe('bearer tokens', () => {
  const secret = new Secret('a-long-enough-api-token-0123456789');

  it('reads the token of an Authorization: Bearer header', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
  });

  it('takes the scheme in any case, as RFC 7235 says', () => {
    expect(bearerToken('bearer abc.def')).toBe('abc.def');
    expect(bearerToken('BEARER abc.def')).toBe('abc.def');
  });

  it('reads nothing from a missing header or another scheme', () => {
    expect(bearerToken(undefined)).toBe('');
    expect(bearerToken('')).toBe('');
    expect(bearerToken('Basic abc')).toBe('');
    expect(bearerToken('Bearer ')).toBe('');
    expect(bearerToken('xBearer abc')).toBe('');
    // The whole value is the token or nothing: no line break smuggles a token in front of junk.
    expect(bearerToken('Bearer abc\nX-Other: 1')).toBe('');
  });

  it('matches only the exact token', () => {
    expect(tokenMatches('a-long-enough-api-token-0123456789', secret)).toBe(true);
    expect(tokenMatches('a-long-enough-api-token-012345678', secret)).toBe(false);
    expect(tokenMatches('a-long-enough-api-token-01234567890', secret)).toBe(false);
    expect(tokenMatches('', secret)).toBe(false);
  });

  it('matches a header only when it carries the exact token as a bearer token', () => {
    expect(bearerTokenMatches('Bearer a-long-enough-api-token-0123456789', secret)).toBe(true);
    expect(bearerTokenMatches('a-long-enough-api-token-0123456789', secret)).toBe(false);
    expect(bearerTokenMatches('Bearer wrong', secret)).toBe(false);
    expect(bearerTokenMatches(undefined, secret)).toBe(false);
  });

  it('never matches an empty header against an empty secret by accident of hashing', () => {
    // Both sides are hashed before the constant-time compare: different inputs, different digests.
    expect(tokenMatches('x', new Secret('y'))).toBe(false);
  });
});
