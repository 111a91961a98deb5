import type { BridgeSettings } from './bridge-settings.js';
import { ConfigValidationError, envSchema } from './env.schema.js';
import { loadBridgeConfig } from './load-config.js';
import { SETTING_FIELDS } from './setting-fields.js';
import { settingsToEnv } from './settings-to-env.js';
import { TEST_TWILIO_AUTH_TOKEN } from '../../test/support/secrets.js';

const CLUSTER_SECRET = 'c'.repeat(32);
const API_TOKEN = 'a'.repeat(24);

/** One value for every setting, each different from its default. */
const EVERY_SETTING: Required<Omit<BridgeSettings, 'env' | 'envFile'>> = {
  publicUrl: 'https://voice.example.com',
  server: {
    port: 9000,
    trustProxy: true,
    requestTimeoutMs: 20000,
    headersTimeoutMs: 5000,
    logLevel: 'debug',
  },
  openai: {
    apiKey: 'sk-test-key',
    realtimeUrl: 'wss://realtime.example.com/v1/realtime',
    model: 'gpt-realtime-mini',
    voice: 'marin',
    instructions: 'Be brief.',
    greeting: 'Hello!',
    turnDetection: 'server_vad',
    transcriptionModel: 'none',
    connectTimeoutMs: 3000,
    connectDeadlineMs: 8000,
    apiBaseUrl: 'https://openai.example.com/v1',
  },
  audio: { inputFormat: 'g711_ulaw', inputChunkMs: 40 },
  twilio: {
    authToken: TEST_TWILIO_AUTH_TOKEN,
    accountSid: 'AC' + '0'.repeat(32),
    validateSignatures: true,
    streamTokenTtlS: 120,
    apiBaseUrl: 'https://twilio.example.com',
    fallbackMessage: 'Sorry.',
    fallbackDial: '+15550001111',
    phoneNumber: '+15550002222',
  },
  api: { token: API_TOKEN, docs: true },
  metrics: { token: 'metrics-token-of-this-test' },
  tools: { timeoutMs: 5000, endCall: false, transfer: false },
  transfer: { number: '+15550003333', allowedNumbers: ['+15550004444', 'sip:desk@example.com'] },
  dtmf: { toModel: false, interrupts: false },
  calls: {
    recoveryMessage: 'Say that again?',
    profiles: { sales: { voice: 'cedar', numbers: ['+15550005555'] } },
  },
  events: { webhookUrl: 'https://hooks.example.com/calls', webhookSecret: 'events-secret-of-test' },
  sip: { webhookSecret: 'whsec_dGVzdHNlY3JldA==' },
  limits: {
    maxConcurrentCalls: 10,
    maxCallDurationS: 600,
    mediaIdleTimeoutS: 10,
    shutdownDrainS: 5,
    maxPendingStreams: 5,
    streamStartTimeoutMs: 2000,
    streamReplayMemoryS: 2 * 86400,
    maxSseFollowers: 20,
    maxSseFollowersPerCall: 4,
    sseMaxDurationS: 60,
    maxListenersPerCall: 3,
  },
  cluster: {
    redisUrl: 'redis://127.0.0.1:6379/0',
    instanceId: 'node-a',
    maxCalls: 100,
    secret: CLUSTER_SECRET,
  },
  dataDir: '/var/lib/bridge',
  history: {
    enabled: false,
    databaseUrl: 'postgres://bridge:history-pass@db.internal:5432/bridge',
    retentionDays: 30,
    priceTable: { 'my-model': { audioInput: 30, audioOutput: 60, textInput: 4, textOutput: 16 } },
  },
  recording: {
    enabled: true,
    dir: '/var/lib/bridge/recordings',
    s3Bucket: 'calls',
    s3Endpoint: 'http://127.0.0.1:4568',
    s3Region: 'eu-west-1',
    s3Prefix: 'bridge/',
    notice: 'This call is recorded.',
    retentionDays: 7,
  },
};

function problemsOf(settings: unknown): string[] {
  try {
    loadBridgeConfig(settings as BridgeSettings);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  return [];
}

describe('settings in code', () => {
  it('has one path for every variable of the environment, and one variable for every path', () => {
    expect(Object.keys(SETTING_FIELDS).sort()).toEqual(Object.keys(envSchema.shape).sort());
    const paths = Object.values(SETTING_FIELDS).map((field) => field.path);
    expect(new Set(paths).size).toBe(paths.length);
  });

  it('maps every group onto the variables, with their types', () => {
    const config = loadBridgeConfig(EVERY_SETTING);
    expect(config.env).toMatchObject({
      PUBLIC_URL: 'https://voice.example.com',
      PORT: 9000,
      TRUST_PROXY: true,
      HTTP_HEADERS_TIMEOUT_MS: 5000,
      LOG_LEVEL: 'debug',
      OPENAI_API_KEY: 'sk-test-key',
      OPENAI_REALTIME_MODEL: 'gpt-realtime-mini',
      AI_INSTRUCTIONS: 'Be brief.',
      TURN_DETECTION: 'server_vad',
      INPUT_TRANSCRIPTION_MODEL: 'none',
      AUDIO_INPUT_FORMAT: 'g711_ulaw',
      INPUT_AUDIO_CHUNK_MS: 40,
      TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32),
      STREAM_TOKEN_TTL_S: 120,
      TWILIO_PHONE_NUMBER: '+15550002222',
      API_TOKEN,
      API_DOCS: true,
      METRICS_TOKEN: 'metrics-token-of-this-test',
      END_CALL_TOOL: false,
      TRANSFER_ALLOWED_NUMBERS: ['+15550004444', 'sip:desk@example.com'],
      DTMF_INTERRUPTS: false,
      CALL_PROFILES: { sales: { voice: 'cedar', numbers: ['+15550005555'] } },
      CALL_EVENTS_WEBHOOK_SECRET: 'events-secret-of-test',
      OPENAI_WEBHOOK_SECRET: 'whsec_dGVzdHNlY3JldA==',
      STREAM_REPLAY_MEMORY_S: 2 * 86400,
      SSE_MAX_DURATION_S: 60,
      MAX_LISTENERS_PER_CALL: 3,
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      CLUSTER_MAX_CALLS: 100,
      DATA_DIR: '/var/lib/bridge',
      HISTORY: false,
      HISTORY_RETENTION_DAYS: 30,
      RECORDING: true,
      RECORDINGS_S3_PREFIX: 'bridge/',
      RECORDING_RETENTION_DAYS: 7,
      CLUSTER_SECRET,
    });
    // Every variable was set from the options: none is left at its default.
    const defaults = envSchema.parse({ OPENAI_API_KEY: 'another-key' });
    const unchanged = Object.keys(SETTING_FIELDS).filter(
      (name) =>
        JSON.stringify(config.env[name as keyof typeof config.env]) ===
        JSON.stringify(defaults[name as keyof typeof defaults]),
    );
    // Azure mode excludes OpenAI's settings above: openai.azure has a test of its own below.
    expect(unchanged).toEqual([
      'AZURE_OPENAI_ENDPOINT',
      'AZURE_OPENAI_DEPLOYMENT',
      'AZURE_OPENAI_API_KEY',
      'AZURE_OPENAI_AUTH',
      'AZURE_OPENAI_TOKEN_SCOPE',
      'TWILIO_VALIDATE_SIGNATURES',
    ]);
  });

  it('maps Azure OpenAI, a group within openai, and names its problems by their nested path', () => {
    const azure = {
      endpoint: 'https://contoso.openai.azure.com',
      deployment: 'realtime-prod',
      apiKey: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
    };
    const { env } = loadBridgeConfig({
      openai: { azure },
      twilio: { authToken: EVERY_SETTING.twilio.authToken },
    });
    expect(env).toMatchObject({
      AZURE_OPENAI_ENDPOINT: 'https://contoso.openai.azure.com',
      AZURE_OPENAI_DEPLOYMENT: 'realtime-prod',
      AZURE_OPENAI_AUTH: 'key',
    });
    expect(env.AZURE_OPENAI_API_KEY).toBe(azure.apiKey);
    expect(
      problemsOf({
        openai: { azure: { ...azure, region: 'eu', auth: 'entra' }, apiKey: 'x' },
        twilio: { authToken: EVERY_SETTING.twilio.authToken },
      }),
    ).toEqual(
      expect.arrayContaining([
        'openai.azure.region: not an option of the bridge (docs/configuration.md lists them)',
      ]),
    );
    expect(problemsOf({ openai: { azure: 'https://contoso.openai.azure.com' } })).toContain(
      'openai.azure: expected an object, got a string',
    );
  });

  it('names a value of the wrong type by its path, with what it got', () => {
    expect(
      settingsToEnv({
        server: { port: '8080', trustProxy: 'yes' },
        openai: { voice: null },
        transfer: { allowedNumbers: '+15550004444' },
        calls: { profiles: '{}' },
        limits: 5,
      }).problems,
    ).toEqual([
      'server.port: expected a number, got a string',
      'server.trustProxy: expected true or false, got a string',
      'openai.voice: expected a string, got null',
      'transfer.allowedNumbers: expected an array of strings, got a string',
      'calls.profiles: expected an object, got a string',
      'limits: expected an object, got a number',
    ]);
  });

  it('names unknown keys, and says where a variable name or the old settings bag went', () => {
    expect(
      problemsOf({
        openai: { apiKey: 'k', voce: 'marin' },
        twilio: { authToken: TEST_TWILIO_AUTH_TOKEN },
        OPENAI_VOICE: 'marin',
        settings: { OPENAI_VOICE: 'marin' },
        surfaces: { console: false },
        colour: 'blue',
      }),
    ).toEqual([
      'openai.voce: not an option of the bridge (docs/configuration.md lists them)',
      'OPENAI_VOICE: not an option of the bridge; in code it is openai.voice',
      expect.stringMatching(/^settings: settings by environment-variable name are replaced/),
      expect.stringMatching(/^surfaces: give it to forRootAsync itself, beside useFactory/),
      'colour: not an option of the bridge (docs/configuration.md lists them)',
    ]);
  });

  it('refuses an empty string rather than taking it for "unset"', () => {
    expect(settingsToEnv({ openai: { voice: ' ' } }).problems).toEqual([
      'openai.voice: expected a non-empty string (leave it out for the default)',
    ]);
  });

  it('reports the schema’s problems by path, nested ones and rules across settings included', () => {
    expect(
      problemsOf({
        openai: { apiKey: 'k', turnDetection: 'vad' },
        twilio: { validateSignatures: false },
        server: { requestTimeoutMs: 2000, headersTimeoutMs: 3000 },
        limits: { maxConcurrentCalls: 1.5 },
        calls: { profiles: { sales: { voice: '' } } },
        transfer: { allowedNumbers: ['555'] },
        events: { webhookUrl: 'https://hooks.example.com' },
        cluster: { redisUrl: 'redis://127.0.0.1:6379' },
      }),
    ).toEqual([
      'openai.turnDetection: expected one of semantic_vad, server_vad, got "vad"',
      expect.stringMatching(/^transfer.allowedNumbers: "555": expected an E.164 number/),
      expect.stringMatching(/^calls.profiles: sales.voice: /),
      'limits.maxConcurrentCalls: expected a whole number from 1 to 100000, got "1.5"',
      expect.stringMatching(/^cluster.secret: is required with cluster.redisUrl \(/),
      'events.webhookSecret: is required with events.webhookUrl (it signs each delivery)',
    ]);
    expect(
      problemsOf({
        openai: { apiKey: 'k' },
        twilio: { validateSignatures: false },
        server: { requestTimeoutMs: 2000, headersTimeoutMs: 3000 },
      }),
    ).toEqual(['server.headersTimeoutMs: must not exceed server.requestTimeoutMs (2000)']);
  });

  it('lists every problem at once, a missing required setting by its path', () => {
    expect(problemsOf({})).toEqual([
      expect.stringMatching(/^openai.apiKey: is required/),
      expect.stringMatching(
        /^twilio.authToken: is required to check Twilio signatures \(set twilio.validateSignatures=false/,
      ),
    ]);
  });
});
