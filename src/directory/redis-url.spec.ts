import { ConfigValidationError, parseEnv } from '../config/env.schema.js';
import { redactRedisUrl } from './redis-url.js';
import { TEST_TWILIO_AUTH_TOKEN } from '../../test/support/secrets.js';

// History off: a cluster's history needs DATABASE_URL (a rule of its own, in env.schema.spec).
const base = { OPENAI_API_KEY: 'sk-x', TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN, HISTORY: 'off' };
const CLUSTER_SECRET = 'c'.repeat(32);

/** The problems parseEnv reports for `env`, one line each. */
function problems(env: Record<string, string>): string[] {
  try {
    parseEnv({ ...base, ...env });
    return [];
  } catch (error) {
    return (error as ConfigValidationError).problems;
  }
}

describe('REDIS_URL', () => {
  it('prints without its password', () => {
    expect(redactRedisUrl('redis://:hunter2@redis:6379/0')).toBe('redis://:***@redis:6379/0');
    expect(redactRedisUrl('rediss://bridge:hunter2@redis.example.com:6380/1')).toBe(
      'rediss://bridge:***@redis.example.com:6380/1',
    );
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactRedisUrl('not a url hunter2')).toBe('<invalid REDIS_URL>');
  });

  it('is accepted as redis:// or rediss:// with an optional database number', () => {
    for (const url of [
      'redis://127.0.0.1:6379/0',
      'rediss://:pw@redis.example.com:6380',
      'redis://redis',
    ]) {
      expect(parseEnv({ ...base, REDIS_URL: url, CLUSTER_SECRET }).REDIS_URL).toBe(url);
    }
    expect(parseEnv(base).REDIS_URL).toBeUndefined();
  });

  it('is refused with a reason that never echoes the value (it may carry a password)', () => {
    for (const url of ['http://:hunter2@redis:6379', 'redis://:hunter2@redis:6379/x', 'hunter2']) {
      let error: unknown;
      try {
        parseEnv({ ...base, REDIS_URL: url });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigValidationError);
      expect((error as Error).message).toMatch(/REDIS_URL: /);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('comes with INSTANCE_ID and CLUSTER_MAX_CALLS, each checked', () => {
    expect(
      parseEnv({ ...base, INSTANCE_ID: 'bridge-7f9c:1', CLUSTER_MAX_CALLS: '40' }),
    ).toMatchObject({ INSTANCE_ID: 'bridge-7f9c:1', CLUSTER_MAX_CALLS: 40 });
    expect(() => parseEnv({ ...base, INSTANCE_ID: 'has space', CLUSTER_MAX_CALLS: '0' })).toThrow(
      /INSTANCE_ID: expected 1-64[\s\S]*CLUSTER_MAX_CALLS: expected a whole number from 1/,
    );
  });

  it('needs CLUSTER_SECRET of at least 32 bytes, never echoed, one line per problem', () => {
    const url = 'redis://redis:6379/0';
    expect(problems({ REDIS_URL: url })).toEqual([
      expect.stringMatching(/^CLUSTER_SECRET: is required with REDIS_URL \(at least 32 bytes/),
    ]);
    const short = 'short-secret-hunter2';
    const refused = problems({ REDIS_URL: url, CLUSTER_SECRET: short, INSTANCE_ID: 'a b' });
    expect(refused).toEqual([
      expect.stringMatching(/^INSTANCE_ID: /),
      expect.stringMatching(/^CLUSTER_SECRET: must be at least 32 bytes long \(got 20\)/),
    ]);
    expect(refused.join('\n')).not.toContain('hunter2');
    // Bytes, not characters: 11 three-byte characters are 33 bytes.
    expect(problems({ REDIS_URL: url, CLUSTER_SECRET: '\u20ac'.repeat(11) })).toEqual([]);
    expect(problems({ REDIS_URL: url, CLUSTER_SECRET: 'x'.repeat(31) })).toHaveLength(1);
    expect(problems({ REDIS_URL: url, CLUSTER_SECRET })).toEqual([]);
    // Single instance: not needed.
    expect(problems({})).toEqual([]);
  });
});
