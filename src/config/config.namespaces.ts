import { hostname } from 'node:os';
import { join } from 'node:path';
import type { FactoryProvider } from '@nestjs/common';
import type { ParsedEnv } from './env.schema.js';
import type { BridgeConfig } from './load-config.js';
import { Secret } from './secret.js';
import { apiBaseUrlOf, azureConfigOf, realtimeUrlOf } from './azure-openai.js';

/**
 * A typed slice of the configuration, built from the environment parsed once at start-up
 * (`loadBridgeConfig`). Inject it with `@Inject(serverConfig.KEY) server: ServerConfig`.
 */
export interface ConfigNamespace<T extends Record<string, unknown>> {
  readonly KEY: string;
  readonly name: string;
  build(env: ParsedEnv): T;
}

function namespace<T extends Record<string, unknown>>(
  name: string,
  build: (env: ParsedEnv) => T,
): ConfigNamespace<T> {
  // Tokens of the bridge's own, not @nestjs/config's `CONFIGURATION(name)`: an app that imports
  // the bridge may well register a `server` namespace of its own.
  return { KEY: `TWILIO_BRIDGE_CONFIG(${name})`, name, build };
}

export const serverConfig = namespace('server', (env) => {
  return {
    port: env.PORT,
    publicUrl: env.PUBLIC_URL,
    trustProxy: env.TRUST_PROXY,
    requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
    logLevel: env.LOG_LEVEL,
    metricsToken: env.METRICS_TOKEN ? new Secret(env.METRICS_TOKEN) : undefined,
    apiDocs: env.API_DOCS,
  };
});

export const openaiConfig = namespace('openai', (env) => {
  return {
    /** OPENAI_API_KEY ('' in Azure mode, where it is never sent). */
    apiKey: new Secret(env.OPENAI_API_KEY ?? ''),
    /** OPENAI_REALTIME_URL as written, else Azure's (derived from the endpoint) or OpenAI's. */
    realtimeUrl: realtimeUrlOf(env),
    /** Set: Azure mode (AZURE_OPENAI_*): its endpoint, deployment and credential. */
    ...azureConfigOf(env),
    model: env.OPENAI_REALTIME_MODEL,
    voice: env.OPENAI_VOICE,
    instructions: env.AI_INSTRUCTIONS,
    greeting: env.AI_GREETING,
    turnDetection: env.TURN_DETECTION,
    inputTranscriptionModel:
      env.INPUT_TRANSCRIPTION_MODEL === 'none' ? undefined : env.INPUT_TRANSCRIPTION_MODEL,
    connectTimeoutMs: env.OPENAI_CONNECT_TIMEOUT_MS,
    connectDeadlineMs: env.OPENAI_CONNECT_DEADLINE_MS,
    /** Set: the SIP transport is on (its webhook route exists). */
    webhookSecret: env.OPENAI_WEBHOOK_SECRET ? new Secret(env.OPENAI_WEBHOOK_SECRET) : undefined,
    /**
     * Base of the REST API: OPENAI_API_BASE_URL, else in Azure mode `{endpoint}/openai/v1`, else
     * OpenAI's (the SIP calls API; the console's key check outside Azure mode).
     */
    apiBaseUrl: apiBaseUrlOf(env),
  };
});

export const audioConfig = namespace('audio', (env) => {
  return { inputFormat: env.AUDIO_INPUT_FORMAT, inputChunkMs: env.INPUT_AUDIO_CHUNK_MS };
});

export const twilioConfig = namespace('twilio', (env) => {
  return {
    authToken: env.TWILIO_AUTH_TOKEN ? new Secret(env.TWILIO_AUTH_TOKEN) : undefined,
    accountSid: env.TWILIO_ACCOUNT_SID,
    validateSignatures: env.TWILIO_VALIDATE_SIGNATURES,
    streamTokenTtlS: env.STREAM_TOKEN_TTL_S,
    apiBaseUrl: env.TWILIO_API_BASE_URL,
    fallbackMessage: env.FALLBACK_MESSAGE,
    fallbackDial: env.FALLBACK_DIAL,
    phoneNumber: env.TWILIO_PHONE_NUMBER,
  };
});

export const limitsConfig = namespace('limits', (env) => {
  return {
    maxConcurrentCalls: env.MAX_CONCURRENT_CALLS,
    maxCallDurationS: env.MAX_CALL_DURATION_S,
    mediaIdleTimeoutS: env.MEDIA_IDLE_TIMEOUT_S,
    shutdownDrainS: env.SHUTDOWN_DRAIN_S,
    maxPendingStreams: env.MAX_PENDING_STREAMS,
    streamStartTimeoutMs: env.STREAM_START_TIMEOUT_MS,
    streamReplayMemoryS: env.STREAM_REPLAY_MEMORY_S,
    maxSseFollowers: env.MAX_SSE_FOLLOWERS,
    maxSseFollowersPerCall: env.MAX_SSE_FOLLOWERS_PER_CALL,
    sseMaxDurationS: env.SSE_MAX_DURATION_S,
    maxListenersPerCall: env.MAX_LISTENERS_PER_CALL,
  };
});

export const callControlConfig = namespace('callControl', (env) => {
  return {
    apiToken: env.API_TOKEN ? new Secret(env.API_TOKEN) : undefined,
    toolTimeoutMs: env.TOOL_TIMEOUT_MS,
    endCallTool: env.END_CALL_TOOL,
    transferTool: env.TRANSFER_TOOL,
    transferNumber: env.TRANSFER_NUMBER,
    transferAllowedNumbers: env.TRANSFER_ALLOWED_NUMBERS,
    dtmfToModel: env.DTMF_TO_MODEL,
    dtmfInterrupts: env.DTMF_INTERRUPTS,
    recoveryMessage: env.RECOVERY_MESSAGE,
    profiles: env.CALL_PROFILES,
    eventsWebhookUrl: env.CALL_EVENTS_WEBHOOK_URL,
    eventsWebhookSecret: env.CALL_EVENTS_WEBHOOK_SECRET
      ? new Secret(env.CALL_EVENTS_WEBHOOK_SECRET)
      : undefined,
  };
});

export const clusterConfig = namespace('cluster', (env) => {
  return {
    /** Set: cluster mode, shared state in Redis. The URL may carry a password. */
    redisUrl: env.REDIS_URL ? new Secret(env.REDIS_URL) : undefined,
    /** Names this instance in the cluster (owner of its calls): hostname and pid by default. */
    instanceId: env.INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    clusterMaxCalls: env.CLUSTER_MAX_CALLS,
    /** Signs the cluster bus (required with REDIS_URL). */
    clusterSecret: env.CLUSTER_SECRET ? new Secret(env.CLUSTER_SECRET) : undefined,
  };
});

export const historyConfig = namespace('history', (env) => {
  return {
    /** Off: no database, no history routes. */
    history: env.HISTORY,
    dataDir: env.DATA_DIR,
    /** Set: PostgreSQL (what a cluster shares); unset: the embedded database under dataDir. */
    databaseUrl: env.DATABASE_URL ? new Secret(env.DATABASE_URL) : undefined,
    historyRetentionDays: env.HISTORY_RETENTION_DAYS,
    /** USD per million tokens, per model (PRICE_TABLE over the defaults). */
    priceTable: env.PRICE_TABLE,
  };
});

export const recordingConfig = namespace('recording', (env) => {
  return {
    recording: env.RECORDING,
    recordingsDir: env.RECORDINGS_DIR ?? join(env.DATA_DIR, 'recordings'),
    s3Bucket: env.RECORDINGS_S3_BUCKET,
    s3Endpoint: env.RECORDINGS_S3_ENDPOINT,
    s3Region: env.RECORDINGS_S3_REGION,
    s3Prefix: env.RECORDINGS_S3_PREFIX,
    recordingNotice: env.RECORDING_NOTICE,
    recordingRetentionDays: env.RECORDING_RETENTION_DAYS,
  };
});

type Of<N> = N extends ConfigNamespace<infer T> ? T : never;
export type ServerConfig = Of<typeof serverConfig>;
export type OpenAIConfig = Of<typeof openaiConfig>;
export type AudioConfig = Of<typeof audioConfig>;
export type TwilioConfig = Of<typeof twilioConfig>;
export type LimitsConfig = Of<typeof limitsConfig>;
export type CallControlConfig = Of<typeof callControlConfig>;
export type ClusterConfig = Of<typeof clusterConfig>;
export type HistoryConfig = Of<typeof historyConfig>;
export type RecordingConfig = Of<typeof recordingConfig>;

const NAMESPACES = [
  serverConfig,
  openaiConfig,
  audioConfig,
  twilioConfig,
  limitsConfig,
  callControlConfig,
  clusterConfig,
  historyConfig,
  recordingConfig,
] as const;

/** The namespaces as providers, each built once from the configuration under `configToken`. */
export function configProviders(configToken: string): FactoryProvider[] {
  return NAMESPACES.map((ns) => ({
    provide: ns.KEY,
    useFactory: (config: BridgeConfig) => ns.build(config.env),
    inject: [configToken],
  }));
}

export const CONFIG_KEYS: readonly string[] = NAMESPACES.map((ns) => ns.KEY);
