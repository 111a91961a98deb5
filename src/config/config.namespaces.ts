import { hostname } from 'node:os';
import { registerAs, type ConfigType } from '@nestjs/config';
import { parseEnv } from './env.schema.js';
import { Secret } from './secret.js';

// Each namespace re-reads the environment that ConfigModule already validated (and merged with
// `.env`); parsing is cheap and happens once per namespace at start-up.

export const serverConfig = registerAs('server', () => {
  const env = parseEnv(process.env);
  return {
    port: env.PORT,
    publicUrl: env.PUBLIC_URL,
    trustProxy: env.TRUST_PROXY,
    logLevel: env.LOG_LEVEL,
    metricsToken: env.METRICS_TOKEN ? new Secret(env.METRICS_TOKEN) : undefined,
    apiDocs: env.API_DOCS,
  };
});

export const openaiConfig = registerAs('openai', () => {
  const env = parseEnv(process.env);
  return {
    apiKey: new Secret(env.OPENAI_API_KEY ?? ''),
    realtimeUrl: env.OPENAI_REALTIME_URL as string,
    model: env.OPENAI_REALTIME_MODEL,
    voice: env.OPENAI_VOICE,
    instructions: env.AI_INSTRUCTIONS,
    greeting: env.AI_GREETING,
    turnDetection: env.TURN_DETECTION,
    inputTranscriptionModel:
      env.INPUT_TRANSCRIPTION_MODEL === 'none' ? undefined : env.INPUT_TRANSCRIPTION_MODEL,
    connectTimeoutMs: env.OPENAI_CONNECT_TIMEOUT_MS,
  };
});

export const audioConfig = registerAs('audio', () => {
  const env = parseEnv(process.env);
  return { inputFormat: env.AUDIO_INPUT_FORMAT };
});

export const twilioConfig = registerAs('twilio', () => {
  const env = parseEnv(process.env);
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

export const limitsConfig = registerAs('limits', () => {
  const env = parseEnv(process.env);
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
  };
});

export const callControlConfig = registerAs('callControl', () => {
  const env = parseEnv(process.env);
  return {
    apiToken: env.API_TOKEN ? new Secret(env.API_TOKEN) : undefined,
    toolTimeoutMs: env.TOOL_TIMEOUT_MS,
    endCallTool: env.END_CALL_TOOL,
    transferTool: env.TRANSFER_TOOL,
    transferNumber: env.TRANSFER_NUMBER,
    transferAllowedNumbers: env.TRANSFER_ALLOWED_NUMBERS,
    dtmfToModel: env.DTMF_TO_MODEL,
    profiles: env.CALL_PROFILES,
    eventsWebhookUrl: env.CALL_EVENTS_WEBHOOK_URL,
    eventsWebhookSecret: env.CALL_EVENTS_WEBHOOK_SECRET
      ? new Secret(env.CALL_EVENTS_WEBHOOK_SECRET)
      : undefined,
  };
});

export const clusterConfig = registerAs('cluster', () => {
  const env = parseEnv(process.env);
  return {
    /** Set: cluster mode, shared state in Redis. The URL may carry a password. */
    redisUrl: env.REDIS_URL ? new Secret(env.REDIS_URL) : undefined,
    /** Names this instance in the cluster (owner of its calls): hostname and pid by default. */
    instanceId: env.INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    clusterMaxCalls: env.CLUSTER_MAX_CALLS,
  };
});

export type ServerConfig = ConfigType<typeof serverConfig>;
export type OpenAIConfig = ConfigType<typeof openaiConfig>;
export type AudioConfig = ConfigType<typeof audioConfig>;
export type TwilioConfig = ConfigType<typeof twilioConfig>;
export type LimitsConfig = ConfigType<typeof limitsConfig>;
export type CallControlConfig = ConfigType<typeof callControlConfig>;
export type ClusterConfig = ConfigType<typeof clusterConfig>;
