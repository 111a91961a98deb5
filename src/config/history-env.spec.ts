import { ConfigValidationError, parseEnv } from './env.schema.js';
import { DEFAULT_PRICES } from './history-env.js';

const minimal = {
  OPENAI_API_KEY: 'sk-proj-history-env-spec-0123456789',
  TWILIO_AUTH_TOKEN: '0123456789abcdef0123456789abcdef',
};
const cluster = {
  REDIS_URL: 'redis://127.0.0.1:6379/0',
  CLUSTER_SECRET: 'f3b1c9d2e8a7465b90c1d2e3f4a5b6c7',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseEnv(env);
    return [];
  } catch (error) {
    return (error as ConfigValidationError).problems;
  }
}

describe('the history settings', () => {
  it('default to history on, ./data, 90 and 30 days, recording off, the built-in prices', () => {
    expect(parseEnv(minimal)).toMatchObject({
      HISTORY: true,
      DATA_DIR: './data',
      HISTORY_RETENTION_DAYS: 90,
      RECORDING: false,
      RECORDING_RETENTION_DAYS: 30,
      PRICE_TABLE: DEFAULT_PRICES,
    });
  });

  it('refuses a DATABASE_URL that is not postgres://, without printing it', () => {
    const problems = problemsOf({ ...minimal, DATABASE_URL: 'mysql://u:hunter2pw@db/x' });
    expect(problems).toEqual([expect.stringMatching(/^DATABASE_URL: expected a postgres:\/\//)]);
    expect(problems.join()).not.toContain('hunter2pw');
  });

  it('refuses a DATABASE_URL whose password is the Kubernetes example placeholder', () => {
    const problems = problemsOf({
      ...minimal,
      DATABASE_URL: 'postgres://bridge:replace-me@bridge-postgres:5432/bridge',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^DATABASE_URL: is a placeholder from our examples/),
    ]);
    expect(problems.join()).not.toContain('replace-me');
  });

  it('requires DATABASE_URL in a cluster while history is on', () => {
    expect(problemsOf({ ...minimal, ...cluster })).toEqual([
      expect.stringMatching(/^DATABASE_URL: is required with REDIS_URL/),
    ]);
    expect(problemsOf({ ...minimal, ...cluster, HISTORY: 'off' })).toEqual([]);
    expect(
      problemsOf({ ...minimal, ...cluster, DATABASE_URL: 'postgres://u:p@db:5432/bridge' }),
    ).toEqual([]);
  });

  it('requires RECORDINGS_S3_BUCKET in a cluster with RECORDING=on', () => {
    expect(problemsOf({ ...minimal, ...cluster, HISTORY: 'off', RECORDING: 'on' })).toEqual([
      expect.stringMatching(/^RECORDINGS_S3_BUCKET: is required with REDIS_URL and RECORDING=on/),
    ]);
    expect(
      problemsOf({
        ...minimal,
        ...cluster,
        HISTORY: 'off',
        RECORDING: 'on',
        RECORDINGS_S3_BUCKET: 'calls',
      }),
    ).toEqual([]);
  });

  it('takes a PRICE_TABLE over the defaults and refuses a malformed one', () => {
    const own = { audioInput: 1, audioOutput: 2, textInput: 3, textOutput: 4 };
    expect(
      parseEnv({ ...minimal, PRICE_TABLE: JSON.stringify({ 'my-model': own }) }).PRICE_TABLE,
    ).toEqual({ ...DEFAULT_PRICES, 'my-model': own });
    expect(problemsOf({ ...minimal, PRICE_TABLE: '{"m": {"audioInput": -1}}' })).toEqual([
      expect.stringMatching(/^PRICE_TABLE: /),
    ]);
    expect(problemsOf({ ...minimal, PRICE_TABLE: 'not json' })).toEqual([
      'PRICE_TABLE: is not valid JSON',
    ]);
  });
});
