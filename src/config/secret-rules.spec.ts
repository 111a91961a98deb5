import { TEST_TWILIO_AUTH_TOKEN } from '../../test/support/secrets.js';
import { ConfigValidationError, parseEnv } from './env.schema.js';
import {
  API_TOKEN_MIN_LENGTH,
  apiTokenProblems,
  openAiKeyProblems,
  secretProblems,
  twilioAuthTokenProblems,
} from './secret-rules.js';

const valid = {
  OPENAI_API_KEY: 'sk-proj-9Qh2xLw7Vd0cTe4Rk8Ub3Nm6',
  TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN,
};

/** What parseEnv says about `env` on top of a valid one, one line per problem. */
function problems(env: Record<string, string>): string[] {
  try {
    parseEnv({ ...valid, ...env });
    return [];
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
}

describe('API_TOKEN', () => {
  it(`is refused when shorter than ${API_TOKEN_MIN_LENGTH} characters, saying its length only`, () => {
    const short = 'hunter2-hunter2-hunter2'; // 23
    expect(problems({ API_TOKEN: short })).toEqual([
      'API_TOKEN: must be at least 24 characters long (got 23); generate one with openssl rand -hex 32',
    ]);
    expect(problems({ API_TOKEN: `${short}x` })).toEqual([]);
  });

  it('is refused when it is a value from our examples, in any case', () => {
    for (const example of ['replace-me', 'REPLACE-ME', ' local-api ']) {
      expect(apiTokenProblems({ API_TOKEN: example })).toEqual([
        expect.stringMatching(/^API_TOKEN: is a placeholder from our examples, not a secret; /),
      ]);
    }
  });

  it('is optional: unset or empty, call control is off and nothing is refused', () => {
    expect(apiTokenProblems({})).toEqual([]);
    expect(apiTokenProblems({ API_TOKEN: '  ' })).toEqual([]);
  });
});

describe('OPENAI_API_KEY', () => {
  it('is refused when left at the .env.example value', () => {
    expect(problems({ OPENAI_API_KEY: 'sk-...' })).toEqual([
      'OPENAI_API_KEY: is a placeholder from our examples, not a secret; set the API key of your OpenAI project',
    ]);
    expect(problems({ OPENAI_API_KEY: 'replace-me' })).toHaveLength(1);
  });

  it('is checked by one function a mode without the key can skip', () => {
    expect(openAiKeyProblems({ OPENAI_API_KEY: 'sk-...' })).toHaveLength(1);
    expect(openAiKeyProblems({ OPENAI_API_KEY: valid.OPENAI_API_KEY })).toEqual([]);
    expect(openAiKeyProblems({})).toEqual([]);
  });
});

describe('TWILIO_AUTH_TOKEN', () => {
  it('must be 32 hexadecimal characters while signatures are checked', () => {
    expect(problems({ TWILIO_AUTH_TOKEN: 'test-auth-token-0123456789abcdef' })).toEqual([
      'TWILIO_AUTH_TOKEN: expected 32 hexadecimal characters, the Auth Token from the Twilio Console (Account info) (got 32 characters)',
    ]);
    expect(problems({ TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN.slice(1) })).toHaveLength(1);
    expect(problems({ TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN.toUpperCase() })).toEqual([]);
  });

  it('is refused as a placeholder from our examples', () => {
    expect(twilioAuthTokenProblems({ TWILIO_AUTH_TOKEN: 'replace-me' })).toEqual([
      expect.stringMatching(/^TWILIO_AUTH_TOKEN: is a placeholder from our examples/),
    ]);
  });

  it('is not checked at all with TWILIO_VALIDATE_SIGNATURES=false', () => {
    for (const off of ['false', 'OFF', '0', 'no']) {
      expect(
        problems({ TWILIO_AUTH_TOKEN: 'replace-me', TWILIO_VALIDATE_SIGNATURES: off }),
      ).toEqual([]);
    }
    expect(twilioAuthTokenProblems({ TWILIO_VALIDATE_SIGNATURES: 'false' })).toEqual([]);
  });
});

describe('the other secrets', () => {
  it.each(['METRICS_TOKEN', 'CALL_EVENTS_WEBHOOK_SECRET', 'CLUSTER_SECRET'])(
    'refuses %s equal to a value from our examples',
    (name) => {
      expect(secretProblems({ ...valid, [name]: 'replace-me' })).toEqual([
        expect.stringMatching(new RegExp(`^${name}: is a placeholder from our examples`)),
      ]);
      expect(
        secretProblems({ ...valid, [name]: 'f3b1c9d2e8a7465b90c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5' }),
      ).toEqual([]);
    },
  );

  it('refuses a REDIS_URL whose password is the Kubernetes example placeholder', () => {
    const secret = { CLUSTER_SECRET: 'f3b1c9d2e8a7465b90c1d2e3f4a5b6c7', HISTORY: 'off' };
    expect(problems({ ...secret, REDIS_URL: 'redis://:replace-me@bridge-redis:6379/0' })).toEqual([
      expect.stringMatching(
        /^REDIS_URL: is a placeholder from our examples, not a secret; its password/,
      ),
    ]);
    expect(problems({ ...secret, REDIS_URL: 'redis://:9c1d2e3f4a5b@bridge-redis:6379/0' })).toEqual(
      [],
    );
    expect(problems({ ...secret, REDIS_URL: 'redis://bridge-redis:6379/0' })).toEqual([]);
  });
});

describe('every secret rule at once', () => {
  it('reports one line per variable and never the values', () => {
    const lines = problems({
      API_TOKEN: 'replace-me',
      OPENAI_API_KEY: 'sk-...',
      TWILIO_AUTH_TOKEN: 'my-twilio-token-hunter2',
      METRICS_TOKEN: 'replace-me',
      PORT: 'eighty',
    });
    expect(lines.map((line) => line.split(':')[0])).toEqual([
      'PORT',
      'TWILIO_AUTH_TOKEN',
      'API_TOKEN',
      'OPENAI_API_KEY',
      'METRICS_TOKEN',
    ]);
    const text = lines.join('\n');
    for (const value of ['replace-me', 'sk-...', 'hunter2']) expect(text).not.toContain(value);
  });
});
