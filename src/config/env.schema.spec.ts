import { recordingConfig } from './config.namespaces.js';
import { ConfigValidationError, parseEnv } from './env.schema.js';
import { MAX_INSTRUCTIONS_BYTES } from '../realtime/session-bounds.js';
import { MAX_SAY_CHARS } from '../call/call-context.js';
import { TEST_TWILIO_AUTH_TOKEN } from '../../test/support/secrets.js';

const minimal = { OPENAI_API_KEY: 'sk-x', TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN };

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseEnv(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  return [];
}

describe('parseEnv', () => {
  it('applies the documented defaults', () => {
    expect(parseEnv(minimal)).toMatchObject({
      PORT: 8080,
      PUBLIC_URL: undefined,
      TRUST_PROXY: false,
      // The URL's default is the namespace's (src/config/azure-openai.spec.ts): it depends on the mode.
      OPENAI_REALTIME_URL: undefined,
      OPENAI_REALTIME_MODEL: 'gpt-realtime',
      OPENAI_VOICE: 'alloy',
      AI_GREETING: undefined,
      TURN_DETECTION: 'semantic_vad',
      AUDIO_INPUT_FORMAT: 'pcm16',
      TWILIO_VALIDATE_SIGNATURES: true,
      MAX_CONCURRENT_CALLS: 500,
      LOG_LEVEL: 'info',
    });
    expect(parseEnv(minimal).AI_INSTRUCTIONS).toMatch(/phone/);
  });

  it('applies the hardening defaults (issue 11)', () => {
    expect(parseEnv(minimal)).toMatchObject({
      STREAM_TOKEN_TTL_S: 60,
      MAX_PENDING_STREAMS: 50,
      STREAM_START_TIMEOUT_MS: 5000,
      STREAM_REPLAY_MEMORY_S: 86400,
      MAX_SSE_FOLLOWERS: 500,
      MAX_SSE_FOLLOWERS_PER_CALL: 200,
      SSE_MAX_DURATION_S: 7200,
    });
  });

  it('appends each caller frame as it comes unless INPUT_AUDIO_CHUNK_MS asks for chunks', () => {
    expect(parseEnv(minimal).INPUT_AUDIO_CHUNK_MS).toBe(0);
    expect(parseEnv({ ...minimal, INPUT_AUDIO_CHUNK_MS: '100' }).INPUT_AUDIO_CHUNK_MS).toBe(100);
    expect(problemsOf({ ...minimal, INPUT_AUDIO_CHUNK_MS: '1000' })).toEqual([
      expect.stringMatching(/^INPUT_AUDIO_CHUNK_MS: expected a whole number from 0 to 200/),
    ]);
  });

  it('bounds HTTP requests at 30 s and their headers at 10 s, the headers never longer', () => {
    expect(parseEnv(minimal)).toMatchObject({
      HTTP_REQUEST_TIMEOUT_MS: 30000,
      HTTP_HEADERS_TIMEOUT_MS: 10000,
    });
    expect(
      problemsOf({ ...minimal, HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '6000' }),
    ).toEqual(['HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS (5000)']);
  });

  it('remembers streamed calls for at least a day', () => {
    expect(problemsOf({ ...minimal, STREAM_REPLAY_MEMORY_S: '3600' })).toEqual([
      expect.stringMatching(/^STREAM_REPLAY_MEMORY_S: expected a whole number from 86400/),
    ]);
  });

  it('requires OPENAI_API_KEY with a message that says what it is for', () => {
    expect(problemsOf({ TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN })).toEqual([
      expect.stringMatching(/^OPENAI_API_KEY: is required/),
    ]);
  });

  it('requires TWILIO_AUTH_TOKEN unless signature validation is switched off', () => {
    expect(problemsOf({ OPENAI_API_KEY: 'k' })).toEqual([
      expect.stringMatching(/^TWILIO_AUTH_TOKEN: is required/),
    ]);
    expect(problemsOf({ OPENAI_API_KEY: 'k', TWILIO_VALIDATE_SIGNATURES: 'false' })).toEqual([]);
  });

  it('records nothing by default, into $DATA_DIR/recordings, kept 30 days', () => {
    expect(parseEnv(minimal)).toMatchObject({
      DATA_DIR: './data',
      RECORDING: false,
      RECORDINGS_DIR: undefined,
      RECORDING_RETENTION_DAYS: 30,
    });
    expect(
      recordingConfig.build(parseEnv({ ...minimal, DATA_DIR: '/var/lib/bridge' })),
    ).toMatchObject({ recording: false, recordingsDir: '/var/lib/bridge/recordings' });
  });

  it('refuses recordings on local disks in a cluster: RECORDINGS_S3_BUCKET is required', () => {
    const cluster = {
      ...minimal,
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      CLUSTER_SECRET: 'f3b1c9d2e8a7465b90c1d2e3f4a5b6c7',
      RECORDING: 'on',
      HISTORY: 'off',
    };
    expect(problemsOf(cluster)).toEqual([
      'RECORDINGS_S3_BUCKET: is required with REDIS_URL and RECORDING=on (every instance serves every recording)',
    ]);
    expect(problemsOf({ ...cluster, RECORDINGS_S3_BUCKET: 'calls' })).toEqual([]);
  });

  it('lists every problem at once, not just the first', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      TURN_DETECTION: 'vad',
      AUDIO_INPUT_FORMAT: 'mp3',
      TRUST_PROXY: 'maybe',
    });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(
      [
        'AUDIO_INPUT_FORMAT',
        'OPENAI_API_KEY',
        'PORT',
        'TRUST_PROXY',
        'TURN_DETECTION',
        'TWILIO_AUTH_TOKEN',
      ].sort(),
    );
    expect(problems.join('\n')).toContain('expected one of semantic_vad, server_vad, got "vad"');
  });

  it('accepts http(s) PUBLIC_URL and ws(s) OPENAI_REALTIME_URL only', () => {
    expect(parseEnv({ ...minimal, PUBLIC_URL: 'https://voice.example.com/' }).PUBLIC_URL).toBe(
      'https://voice.example.com',
    );
    expect(problemsOf({ ...minimal, PUBLIC_URL: 'wss://x' })).toHaveLength(1);
    expect(problemsOf({ ...minimal, OPENAI_REALTIME_URL: 'https://api.openai.com' })).toHaveLength(
      1,
    );
    expect(problemsOf({ ...minimal, PUBLIC_URL: 'not a url' })).toHaveLength(1);
  });

  it('refuses a TWILIO_ACCOUNT_SID that is not AC + 32 hex digits, in one line, without its value', () => {
    const sid = `AC${'0123456789abcdef'.repeat(2)}`;
    expect(parseEnv({ ...minimal, TWILIO_ACCOUNT_SID: ` ${sid} ` }).TWILIO_ACCOUNT_SID).toBe(sid);
    expect(problemsOf({ ...minimal, TWILIO_ACCOUNT_SID: `SK${'0'.repeat(32)}` })).toEqual([
      expect.stringMatching(
        /^TWILIO_ACCOUNT_SID: an API key SID \(SK\.\.\.\), not the account SID/,
      ),
    ]);
    for (const wrong of [TEST_TWILIO_AUTH_TOKEN, sid.toUpperCase(), `${sid}0`, 'AC1']) {
      const problems = problemsOf({ ...minimal, TWILIO_ACCOUNT_SID: wrong });
      expect(problems).toEqual([
        expect.stringMatching(/^TWILIO_ACCOUNT_SID: expected AC followed by 32 lowercase hex/),
      ]);
      expect(problems.join()).not.toContain(wrong);
    }
  });

  it('refuses a PUBLIC_URL that is a webhook URL (ends in a route of the bridge), naming the base', () => {
    for (const [pasted, base, route] of [
      ['https://voice.example.com/api/twiml', 'https://voice.example.com', '/api/twiml'],
      ['https://example.com/voice/api/twiml/', 'https://example.com/voice', '/api/twiml'],
      ['https://example.com/voice/media-stream', 'https://example.com/voice', '/media-stream'],
      ['https://example.com/api/stream-status', 'https://example.com', '/api/stream-status'],
    ]) {
      expect(problemsOf({ ...minimal, PUBLIC_URL: pasted })).toEqual([
        `PUBLIC_URL: ends in ${route}, the bridge's own route: give the base URL, ${base} (the bridge adds ${route} itself)`,
      ]);
    }
    // A path is a proxy's prefix, even one that only looks like a route.
    for (const prefix of [
      'https://example.com/voice',
      'https://example.com/api',
      'https://x.io/my-media-stream',
    ])
      expect(parseEnv({ ...minimal, PUBLIC_URL: prefix }).PUBLIC_URL).toBe(prefix);
  });

  it('never echoes a secret in its messages', () => {
    const error = (() => {
      try {
        parseEnv({ OPENAI_API_KEY: 'sk-very-secret', PORT: '-1' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).not.toContain('sk-very-secret');
  });

  it('takes the SIP settings: a whsec_ webhook secret, and the REST base URL (defaulted by the namespace)', () => {
    expect(parseEnv(minimal)).toMatchObject({
      OPENAI_WEBHOOK_SECRET: undefined,
      OPENAI_API_BASE_URL: undefined,
    });
    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    expect(
      parseEnv({
        ...minimal,
        OPENAI_WEBHOOK_SECRET: secret,
        OPENAI_API_BASE_URL: 'http://127.0.0.1:4010/v1/',
      }),
    ).toMatchObject({
      OPENAI_WEBHOOK_SECRET: secret,
      OPENAI_API_BASE_URL: 'http://127.0.0.1:4010/v1',
    });
  });

  it('refuses a webhook secret that is not whsec_ + base64, without printing it', () => {
    const problems = problemsOf({ ...minimal, OPENAI_WEBHOOK_SECRET: 'my-plain-secret!' });
    expect(problems).toEqual([expect.stringMatching(/^OPENAI_WEBHOOK_SECRET: expected .*whsec_/)]);
    expect(problems.join()).not.toContain('my-plain-secret');
    expect(problemsOf({ ...minimal, OPENAI_API_BASE_URL: 'ftp://x' })).toEqual([
      expect.stringMatching(/^OPENAI_API_BASE_URL:/),
    ]);
  });

  it(`refuses at start instructions over MAX_INSTRUCTIONS_BYTES, the env's and a profile's`, () => {
    const atBound = 'x'.repeat(MAX_INSTRUCTIONS_BYTES);
    const profiles = (instructions: string) =>
      JSON.stringify({ sales: { instructions }, support: { voice: 'cedar' } });
    expect(
      parseEnv({ ...minimal, AI_INSTRUCTIONS: atBound, CALL_PROFILES: profiles(atBound) }),
    ).toMatchObject({
      AI_INSTRUCTIONS: atBound,
      CALL_PROFILES: { sales: { instructions: atBound } },
    });
    expect(
      problemsOf({
        ...minimal,
        AI_INSTRUCTIONS: `${atBound}x`,
        CALL_PROFILES: profiles(`${atBound}x`),
      }),
    ).toEqual([
      'AI_INSTRUCTIONS: instructions of 65,537 bytes, over MAX_INSTRUCTIONS_BYTES (65,536)',
      'CALL_PROFILES: sales.instructions: instructions of 65,537 bytes, over MAX_INSTRUCTIONS_BYTES (65,536)',
    ]);
  });

  it("refuses at start greetings and recovery sentences over MAX_SAY_CHARS, the env's and a profile's", () => {
    const atBound = 'x'.repeat(MAX_SAY_CHARS);
    const profiles = (sentence: string) =>
      JSON.stringify({ sales: { greeting: sentence, recovery: sentence } });
    const env = (sentence: string) => ({
      ...minimal,
      AI_GREETING: sentence,
      RECOVERY_MESSAGE: sentence,
      CALL_PROFILES: profiles(sentence),
    });
    expect(parseEnv(env(atBound))).toMatchObject({
      AI_GREETING: atBound,
      RECOVERY_MESSAGE: atBound,
      CALL_PROFILES: { sales: { greeting: atBound, recovery: atBound } },
    });
    const over = `1001 characters, over MAX_SAY_CHARS (1000): a sentence to say, not a script`;
    expect(problemsOf(env(`${atBound}x`)).sort()).toEqual(
      [
        `AI_GREETING: ${over}`,
        `RECOVERY_MESSAGE: ${over}`,
        `CALL_PROFILES: sales.greeting: ${over}; sales.recovery: ${over}`,
      ].sort(),
    );
  });
});
