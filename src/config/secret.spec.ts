import { inspect } from 'node:util';
import { Secret } from './secret.js';

describe('Secret', () => {
  const secret = new Secret('sk-hidden');

  it('reveals its value only when asked', () => {
    expect(secret.reveal()).toBe('sk-hidden');
  });

  it('prints as [redacted] in strings, JSON and inspection', () => {
    expect(`${secret.toString()}`).toBe('[redacted]');
    expect(JSON.stringify({ secret })).toBe('{"secret":"[redacted]"}');
    expect(inspect({ secret })).not.toContain('sk-hidden');
    expect(inspect(secret)).toBe('[redacted]');
  });
});
