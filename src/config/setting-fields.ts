import type { AzureSettings, BridgeSettings } from './bridge-settings.js';
import type { ParsedEnv } from './env.schema.js';

/** The groups of `BridgeSettings` (the objects under it). */
type Groups = Omit<BridgeSettings, 'env' | 'envFile' | 'publicUrl' | 'dataDir'>;

type GroupName = Extract<keyof Groups, string>;

/** Every setting's path: `publicUrl`, `openai.apiKey`, ... */
export type SettingPath =
  | 'publicUrl'
  | 'dataDir'
  | {
      [G in GroupName]: `${G}.${Exclude<Extract<keyof NonNullable<Groups[G]>, string>, 'azure'>}`;
    }[GroupName]
  | `openai.azure.${Extract<keyof AzureSettings, string>}`;

/** How a setting is written in code; each turns into the string its variable would hold. */
export type SettingKind = 'text' | 'number' | 'boolean' | 'list' | 'object';

export interface SettingField {
  path: SettingPath;
  kind: SettingKind;
}

/**
 * The one mapping between the environment and the options: each variable's path and kind. The
 * compiler checks that every variable has a path (`satisfies`) and every path a variable
 * (`COMPLETE` below), so a new variable cannot be left out of the options.
 */
export const SETTING_FIELDS = {
  PORT: { path: 'server.port', kind: 'number' },
  PUBLIC_URL: { path: 'publicUrl', kind: 'text' },
  TRUST_PROXY: { path: 'server.trustProxy', kind: 'boolean' },
  HTTP_REQUEST_TIMEOUT_MS: { path: 'server.requestTimeoutMs', kind: 'number' },
  HTTP_HEADERS_TIMEOUT_MS: { path: 'server.headersTimeoutMs', kind: 'number' },
  LOG_LEVEL: { path: 'server.logLevel', kind: 'text' },

  OPENAI_API_KEY: { path: 'openai.apiKey', kind: 'text' },
  OPENAI_REALTIME_URL: { path: 'openai.realtimeUrl', kind: 'text' },
  AZURE_OPENAI_ENDPOINT: { path: 'openai.azure.endpoint', kind: 'text' },
  AZURE_OPENAI_DEPLOYMENT: { path: 'openai.azure.deployment', kind: 'text' },
  AZURE_OPENAI_API_KEY: { path: 'openai.azure.apiKey', kind: 'text' },
  AZURE_OPENAI_AUTH: { path: 'openai.azure.auth', kind: 'text' },
  AZURE_OPENAI_TOKEN_SCOPE: { path: 'openai.azure.tokenScope', kind: 'text' },
  OPENAI_REALTIME_MODEL: { path: 'openai.model', kind: 'text' },
  OPENAI_VOICE: { path: 'openai.voice', kind: 'text' },
  AI_INSTRUCTIONS: { path: 'openai.instructions', kind: 'text' },
  AI_GREETING: { path: 'openai.greeting', kind: 'text' },
  TURN_DETECTION: { path: 'openai.turnDetection', kind: 'text' },
  INPUT_TRANSCRIPTION_MODEL: { path: 'openai.transcriptionModel', kind: 'text' },
  OPENAI_CONNECT_TIMEOUT_MS: { path: 'openai.connectTimeoutMs', kind: 'number' },
  OPENAI_CONNECT_DEADLINE_MS: { path: 'openai.connectDeadlineMs', kind: 'number' },
  OPENAI_API_BASE_URL: { path: 'openai.apiBaseUrl', kind: 'text' },
  AUDIO_INPUT_FORMAT: { path: 'audio.inputFormat', kind: 'text' },
  INPUT_AUDIO_CHUNK_MS: { path: 'audio.inputChunkMs', kind: 'number' },

  TWILIO_AUTH_TOKEN: { path: 'twilio.authToken', kind: 'text' },
  TWILIO_ACCOUNT_SID: { path: 'twilio.accountSid', kind: 'text' },
  TWILIO_VALIDATE_SIGNATURES: { path: 'twilio.validateSignatures', kind: 'boolean' },
  STREAM_TOKEN_TTL_S: { path: 'twilio.streamTokenTtlS', kind: 'number' },
  TWILIO_API_BASE_URL: { path: 'twilio.apiBaseUrl', kind: 'text' },
  FALLBACK_MESSAGE: { path: 'twilio.fallbackMessage', kind: 'text' },
  FALLBACK_DIAL: { path: 'twilio.fallbackDial', kind: 'text' },
  TWILIO_PHONE_NUMBER: { path: 'twilio.phoneNumber', kind: 'text' },

  API_TOKEN: { path: 'api.token', kind: 'text' },
  API_DOCS: { path: 'api.docs', kind: 'boolean' },
  METRICS_TOKEN: { path: 'metrics.token', kind: 'text' },
  TOOL_TIMEOUT_MS: { path: 'tools.timeoutMs', kind: 'number' },
  END_CALL_TOOL: { path: 'tools.endCall', kind: 'boolean' },
  TRANSFER_TOOL: { path: 'tools.transfer', kind: 'boolean' },
  TRANSFER_NUMBER: { path: 'transfer.number', kind: 'text' },
  TRANSFER_ALLOWED_NUMBERS: { path: 'transfer.allowedNumbers', kind: 'list' },
  DTMF_TO_MODEL: { path: 'dtmf.toModel', kind: 'boolean' },
  DTMF_INTERRUPTS: { path: 'dtmf.interrupts', kind: 'boolean' },
  RECOVERY_MESSAGE: { path: 'calls.recoveryMessage', kind: 'text' },
  CALL_PROFILES: { path: 'calls.profiles', kind: 'object' },
  CALL_EVENTS_WEBHOOK_URL: { path: 'events.webhookUrl', kind: 'text' },
  CALL_EVENTS_WEBHOOK_SECRET: { path: 'events.webhookSecret', kind: 'text' },
  OPENAI_WEBHOOK_SECRET: { path: 'sip.webhookSecret', kind: 'text' },

  MAX_CONCURRENT_CALLS: { path: 'limits.maxConcurrentCalls', kind: 'number' },
  MAX_CALL_DURATION_S: { path: 'limits.maxCallDurationS', kind: 'number' },
  MEDIA_IDLE_TIMEOUT_S: { path: 'limits.mediaIdleTimeoutS', kind: 'number' },
  SHUTDOWN_DRAIN_S: { path: 'limits.shutdownDrainS', kind: 'number' },
  MAX_PENDING_STREAMS: { path: 'limits.maxPendingStreams', kind: 'number' },
  STREAM_START_TIMEOUT_MS: { path: 'limits.streamStartTimeoutMs', kind: 'number' },
  STREAM_REPLAY_MEMORY_S: { path: 'limits.streamReplayMemoryS', kind: 'number' },
  MAX_SSE_FOLLOWERS: { path: 'limits.maxSseFollowers', kind: 'number' },
  MAX_SSE_FOLLOWERS_PER_CALL: { path: 'limits.maxSseFollowersPerCall', kind: 'number' },
  SSE_MAX_DURATION_S: { path: 'limits.sseMaxDurationS', kind: 'number' },
  MAX_LISTENERS_PER_CALL: { path: 'limits.maxListenersPerCall', kind: 'number' },

  REDIS_URL: { path: 'cluster.redisUrl', kind: 'text' },
  INSTANCE_ID: { path: 'cluster.instanceId', kind: 'text' },
  CLUSTER_MAX_CALLS: { path: 'cluster.maxCalls', kind: 'number' },
  CLUSTER_SECRET: { path: 'cluster.secret', kind: 'text' },

  DATA_DIR: { path: 'dataDir', kind: 'text' },
  HISTORY: { path: 'history.enabled', kind: 'boolean' },
  DATABASE_URL: { path: 'history.databaseUrl', kind: 'text' },
  HISTORY_RETENTION_DAYS: { path: 'history.retentionDays', kind: 'number' },
  PRICE_TABLE: { path: 'history.priceTable', kind: 'object' },
  RECORDING: { path: 'recording.enabled', kind: 'boolean' },
  RECORDINGS_DIR: { path: 'recording.dir', kind: 'text' },
  RECORDINGS_S3_BUCKET: { path: 'recording.s3Bucket', kind: 'text' },
  RECORDINGS_S3_ENDPOINT: { path: 'recording.s3Endpoint', kind: 'text' },
  RECORDINGS_S3_REGION: { path: 'recording.s3Region', kind: 'text' },
  RECORDINGS_S3_PREFIX: { path: 'recording.s3Prefix', kind: 'text' },
  RECORDING_NOTICE: { path: 'recording.notice', kind: 'text' },
  RECORDING_RETENTION_DAYS: { path: 'recording.retentionDays', kind: 'number' },
} as const satisfies Record<keyof ParsedEnv, SettingField>;

type Missing = Exclude<SettingPath, (typeof SETTING_FIELDS)[keyof typeof SETTING_FIELDS]['path']>;
// Fails to compile, naming the path, when a field of BridgeSettings has no variable.
const COMPLETE: [Missing] extends [never] ? true : Missing = true;
void COMPLETE;

export type SettingVariable = keyof typeof SETTING_FIELDS;

/** Variable by path (`openai.apiKey` -> `OPENAI_API_KEY`). */
export const VARIABLE_OF: ReadonlyMap<string, SettingVariable> = new Map(
  (Object.keys(SETTING_FIELDS) as SettingVariable[]).map((name) => [
    SETTING_FIELDS[name].path,
    name,
  ]),
);

/** Every group of settings by its path (`openai`, `openai.azure`, ...). */
export const SETTING_GROUPS: ReadonlySet<string> = new Set(
  Object.values(SETTING_FIELDS).flatMap(({ path }) => {
    const parts = path.split('.');
    return parts.slice(1).map((_, end) => parts.slice(0, end + 1).join('.'));
  }),
);
