import type { CallProfiles, LogLevel } from './env.schema.js';

/**
 * The bridge's settings in code, grouped and typed: every environment variable of
 * docs/configuration.md has one field here (its JSDoc names the variable), with the same
 * default and the same checks. Numbers are numbers, switches are booleans, secrets are strings.
 *
 * Given, they are the whole configuration: nothing is read from `process.env` or `.env` unless
 * `env` (and `envFile`) say so.
 */
export interface BridgeSettings {
  /**
   * Where the settings not given here come from: `true` is `process.env` (over `./.env`, as
   * `npm start` reads it); an object is an environment of your own. Default: none, only these
   * settings and the defaults. Settings given here win over the environment.
   */
  env?: true | Record<string, string | undefined>;
  /**
   * A `.env` file read under `env`, or `false` for none. Default: `./.env` with `env: true`
   * (except under `NODE_ENV=test`), no file otherwise.
   */
  envFile?: string | false;
  /** `PUBLIC_URL`: the base URL Twilio reaches the bridge at, e.g. `https://voice.example.com`. */
  publicUrl?: string;
  server?: ServerSettings;
  openai?: OpenAISettings;
  audio?: AudioSettings;
  twilio?: TwilioSettings;
  api?: ApiSettings;
  metrics?: MetricsSettings;
  tools?: ToolSettings;
  transfer?: TransferSettings;
  dtmf?: DtmfSettings;
  calls?: CallSettingsGroup;
  events?: EventSettings;
  sip?: SipSettings;
  limits?: LimitSettings;
  cluster?: ClusterSettings;
  /** `DATA_DIR`: where the embedded database and, by default, recordings live. */
  dataDir?: string;
  history?: HistorySettings;
  recording?: RecordingSettings;
}

export interface ServerSettings {
  /** `PORT` (read by `bootstrapBridge` only: an application of your own listens where it wants). */
  port?: number;
  /** `TRUST_PROXY` */
  trustProxy?: boolean;
  /** `HTTP_REQUEST_TIMEOUT_MS` */
  requestTimeoutMs?: number;
  /** `HTTP_HEADERS_TIMEOUT_MS` */
  headersTimeoutMs?: number;
  /** `LOG_LEVEL` */
  logLevel?: LogLevel;
}

export interface OpenAISettings {
  /** `OPENAI_API_KEY` (required) */
  apiKey?: string;
  /** `OPENAI_REALTIME_URL` */
  realtimeUrl?: string;
  /** Azure OpenAI instead of OpenAI (docs/operations.md#azure). */
  azure?: AzureSettings;
  /** `OPENAI_REALTIME_MODEL` */
  model?: string;
  /** `OPENAI_VOICE` */
  voice?: string;
  /** `AI_INSTRUCTIONS` */
  instructions?: string;
  /** `AI_GREETING` */
  greeting?: string;
  /** `TURN_DETECTION` */
  turnDetection?: 'semantic_vad' | 'server_vad';
  /** `INPUT_TRANSCRIPTION_MODEL` (`'none'`: no transcription of the caller) */
  transcriptionModel?: string;
  /** `OPENAI_CONNECT_TIMEOUT_MS` */
  connectTimeoutMs?: number;
  /** `OPENAI_CONNECT_DEADLINE_MS` */
  connectDeadlineMs?: number;
  /** `OPENAI_API_BASE_URL` */
  apiBaseUrl?: string;
}

export interface AudioSettings {
  /** `AUDIO_INPUT_FORMAT` */
  inputFormat?: 'pcm16' | 'g711_ulaw';
  /** `INPUT_AUDIO_CHUNK_MS` */
  inputChunkMs?: number;
}

export interface TwilioSettings {
  /** `TWILIO_AUTH_TOKEN` (required while signatures are checked) */
  authToken?: string;
  /** `TWILIO_ACCOUNT_SID` */
  accountSid?: string;
  /** `TWILIO_VALIDATE_SIGNATURES` */
  validateSignatures?: boolean;
  /** `STREAM_TOKEN_TTL_S` */
  streamTokenTtlS?: number;
  /** `TWILIO_API_BASE_URL` */
  apiBaseUrl?: string;
  /** `FALLBACK_MESSAGE` */
  fallbackMessage?: string;
  /** `FALLBACK_DIAL` */
  fallbackDial?: string;
  /** `TWILIO_PHONE_NUMBER` */
  phoneNumber?: string;
}

export interface ApiSettings {
  /** `API_TOKEN`: the call-control API's and the console's bearer token */
  token?: string;
  /** `API_DOCS` */
  docs?: boolean;
}

export interface MetricsSettings {
  /** `METRICS_TOKEN` */
  token?: string;
}

export interface ToolSettings {
  /** `TOOL_TIMEOUT_MS` */
  timeoutMs?: number;
  /** `END_CALL_TOOL` */
  endCall?: boolean;
  /** `TRANSFER_TOOL` */
  transfer?: boolean;
}

export interface TransferSettings {
  /** `TRANSFER_NUMBER` */
  number?: string;
  /** `TRANSFER_ALLOWED_NUMBERS` */
  allowedNumbers?: readonly string[];
}

export interface DtmfSettings {
  /** `DTMF_TO_MODEL` */
  toModel?: boolean;
  /** `DTMF_INTERRUPTS` */
  interrupts?: boolean;
}

export interface CallSettingsGroup {
  /** `RECOVERY_MESSAGE` */
  recoveryMessage?: string;
  /** `CALL_PROFILES`, as an object rather than JSON text */
  profiles?: CallProfiles;
}

export interface EventSettings {
  /** `CALL_EVENTS_WEBHOOK_URL` */
  webhookUrl?: string;
  /** `CALL_EVENTS_WEBHOOK_SECRET` */
  webhookSecret?: string;
}

export interface SipSettings {
  /** `OPENAI_WEBHOOK_SECRET`: set, the SIP webhook (OpenAI's, or the Azure resource's) is served */
  webhookSecret?: string;
}

export interface LimitSettings {
  /** `MAX_CONCURRENT_CALLS` */
  maxConcurrentCalls?: number;
  /** `MAX_CALL_DURATION_S` */
  maxCallDurationS?: number;
  /** `MEDIA_IDLE_TIMEOUT_S` */
  mediaIdleTimeoutS?: number;
  /** `SHUTDOWN_DRAIN_S` */
  shutdownDrainS?: number;
  /** `MAX_PENDING_STREAMS` */
  maxPendingStreams?: number;
  /** `STREAM_START_TIMEOUT_MS` */
  streamStartTimeoutMs?: number;
  /** `STREAM_REPLAY_MEMORY_S` */
  streamReplayMemoryS?: number;
  /** `MAX_SSE_FOLLOWERS` */
  maxSseFollowers?: number;
  /** `MAX_SSE_FOLLOWERS_PER_CALL` */
  maxSseFollowersPerCall?: number;
  /** `MAX_LISTENERS_PER_CALL` */
  maxListenersPerCall?: number;
  /** `SSE_MAX_DURATION_S` */
  sseMaxDurationS?: number;
}

export interface ClusterSettings {
  /** `REDIS_URL`: set, cluster mode */
  redisUrl?: string;
  /** `INSTANCE_ID` */
  instanceId?: string;
  /** `CLUSTER_MAX_CALLS` */
  maxCalls?: number;
  /** `CLUSTER_SECRET` */
  secret?: string;
}

export interface RecordingSettings {
  /** `RECORDING` */
  enabled?: boolean;
  /** `RECORDINGS_DIR` */
  dir?: string;
  /** `RECORDINGS_S3_BUCKET` */
  s3Bucket?: string;
  /** `RECORDINGS_S3_ENDPOINT` */
  s3Endpoint?: string;
  /** `RECORDINGS_S3_REGION` */
  s3Region?: string;
  /** `RECORDINGS_S3_PREFIX` */
  s3Prefix?: string;
  /** `RECORDING_NOTICE` */
  notice?: string;
  /** `RECORDING_RETENTION_DAYS` */
  retentionDays?: number;
}

export interface AzureSettings {
  /** `AZURE_OPENAI_ENDPOINT`: `https://<resource>.openai.azure.com`; set, Azure mode. */
  endpoint?: string;
  /** `AZURE_OPENAI_DEPLOYMENT` (default: the model's name) */
  deployment?: string;
  /** `AZURE_OPENAI_API_KEY` */
  apiKey?: string;
  /** `AZURE_OPENAI_AUTH`: `entra` for Microsoft Entra ID tokens instead of a key. */
  auth?: 'key' | 'entra';
  /** `AZURE_OPENAI_TOKEN_SCOPE`: the Entra ID scope (default `https://ai.azure.com/.default`). */
  tokenScope?: string;
}

export interface HistorySettings {
  /** `HISTORY` (default on: the embedded database under `dataDir`) */
  enabled?: boolean;
  /** `DATABASE_URL`: PostgreSQL instead of the embedded database */
  databaseUrl?: string;
  /** `HISTORY_RETENTION_DAYS` */
  retentionDays?: number;
  /** `PRICE_TABLE`: USD per 1M tokens per model, over the built-in prices (docs/history.md) */
  priceTable?: Record<string, unknown>;
}
