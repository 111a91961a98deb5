import { z } from 'zod';
import {
  jsonText,
  booleanString,
  integer,
  oneOf,
  optionalInteger,
  optionalText,
  textWithDefault,
  url,
  urlWithHost,
} from './env.parsers.js';
import { transferListEnv, transferNumberEnv } from './transfer-targets.js';
import { crossFieldProblems } from './env.rules.js';
import { openAiKeyRequiredProblems } from './secret-rules.js';
import { AZURE_AUTH_MODES, tokenScope } from './azure-openai.js';
import { databaseUrl, priceTable } from './history-env.js';
import { instructionsProblem } from '../realtime/session-bounds.js';
import { sentenceProblem } from '../call/call-context.js';
import { accountSid, publicUrl } from './twilio-env.js';

/**
 * The whole environment contract in one place. Parsed once at start-up (every problem reported,
 * not just the first) and then exposed as typed namespaces by `config.namespaces.ts`.
 */

const DEFAULT_INSTRUCTIONS =
  'You are a friendly, concise assistant answering a phone call. Speak naturally, in short ' +
  'sentences, as people do on the phone. Ask one question at a time. If you did not catch ' +
  'something, ask the caller to repeat it. Never read out URLs, markup or long lists.';

/** Standard Webhooks secret: `whsec_` + the base64 of the HMAC key. */
const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]{4,}={0,2}$/;

const PHONE = /^\+?[0-9*#]{3,20}$|^sip:\S+$/;
const phoneNumber = optionalText.refine((value) => value === undefined || PHONE.test(value), {
  message: 'expected a phone number such as +15551234567 (or a sip: URI)',
});

/** Instructions go into every call's session.update (and again at each reconnect): bounded. */
function boundedInstructions(value: string | undefined, ctx: z.RefinementCtx): void {
  const problem = value === undefined ? undefined : instructionsProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
}

/** A sentence the assistant is told to say (a greeting, a recovery): MAX_SAY_CHARS, as `say` takes. */
function boundedSentence(value: string | undefined, ctx: z.RefinementCtx): void {
  const problem = value === undefined ? undefined : sentenceProblem(value);
  if (problem)
    ctx.addIssue({ code: 'custom', message: `${problem}: a sentence to say, not a script` });
}

/** Named per-call profiles: `{"sales": {"instructions": "...", "voice": "marin", "numbers": ["+1555..."]}}`. */
const callProfilesSchema = z.record(
  z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'profile names are letters, digits, - and _'),
  z.strictObject({
    instructions: z.string().min(1).optional().superRefine(boundedInstructions),
    voice: z.string().min(1).optional(),
    greeting: z.string().min(1).optional().superRefine(boundedSentence),
    /** What the assistant says after a response was cut short (token limit, content filter). */
    recovery: z.string().min(1).optional().superRefine(boundedSentence),
    numbers: z.array(z.string().regex(PHONE, 'not a phone number')).optional(),
  }),
);
export type CallProfiles = z.output<typeof callProfilesSchema>;

/**
 * REDIS_URL: `redis://` or `rediss://` (TLS). Its value is never echoed in an error: it may
 * carry a password.
 */
const redisUrl = optionalText.transform((value, ctx): string | undefined => {
  if (value === undefined) return undefined;
  const parsed = urlWithHost(value, ['redis:', 'rediss:']);
  if (!parsed) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected a redis:// or rediss:// URL such as redis://127.0.0.1:6379/0',
    });
    return z.NEVER;
  }
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^(0|[1-9][0-9]?)$/.test(db)) {
    ctx.addIssue({ code: 'custom', message: 'the database after the host must be a number (/0)' });
    return z.NEVER;
  }
  return value;
});

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const envSchema = z.object({
  PORT: integer(8080, 0, 65535),
  PUBLIC_URL: publicUrl,
  TRUST_PROXY: booleanString(false),
  // Whole request (headers and body) / headers alone; a webhook needs far less (docs/security.md).
  HTTP_REQUEST_TIMEOUT_MS: integer(30000, 1000, 300000),
  HTTP_HEADERS_TIMEOUT_MS: integer(10000, 500, 300000),
  LOG_LEVEL: oneOf(LOG_LEVELS, 'info'),

  // Required outside Azure mode (secret-rules.ts).
  OPENAI_API_KEY: optionalText,
  // Default wss://api.openai.com/v1/realtime, or Azure's (azure-openai.ts realtimeUrlOf).
  OPENAI_REALTIME_URL: url(['ws', 'wss']),
  OPENAI_REALTIME_MODEL: textWithDefault('gpt-realtime'),
  OPENAI_VOICE: textWithDefault('alloy'),
  AI_INSTRUCTIONS: textWithDefault(DEFAULT_INSTRUCTIONS).superRefine(boundedInstructions),
  AI_GREETING: optionalText.superRefine(boundedSentence),
  TURN_DETECTION: oneOf(['semantic_vad', 'server_vad'] as const, 'semantic_vad'),
  AUDIO_INPUT_FORMAT: oneOf(['pcm16', 'g711_ulaw'] as const, 'pcm16'),
  INPUT_AUDIO_CHUNK_MS: integer(0, 0, 200),
  INPUT_TRANSCRIPTION_MODEL: textWithDefault('gpt-4o-mini-transcribe'),
  OPENAI_CONNECT_TIMEOUT_MS: integer(5000, 100, 60000),
  // One connect episode (a call's first connect, or recovery after a drop), retries included.
  OPENAI_CONNECT_DEADLINE_MS: integer(10000, 500, 120000),
  // The SIP transport (src/sip-call/): set, the `realtime.call.incoming` webhook is served
  // (OpenAI's, or in Azure mode the resource's: the same Standard Webhooks signature).
  OPENAI_WEBHOOK_SECRET: optionalText.refine(
    (value) => value === undefined || WEBHOOK_SECRET.test(value),
    {
      message:
        'expected the signing secret OpenAI shows for the webhook: whsec_ followed by base64',
    },
  ),
  // OpenAI's REST API: the SIP transport's calls API, the console's key check. Default
  // https://api.openai.com/v1, or Azure's (azure-openai.ts apiBaseUrlOf).
  OPENAI_API_BASE_URL: url(['http', 'https']),
  // Azure OpenAI (src/config/azure-openai.ts): set, the endpoint replaces OpenAI's.
  AZURE_OPENAI_ENDPOINT: url(['http', 'https']).refine((value) => !value || !/[?#]/.test(value), {
    message: 'must be the resource endpoint, https://<resource>.openai.azure.com, without ? or #',
  }),
  AZURE_OPENAI_DEPLOYMENT: optionalText,
  AZURE_OPENAI_API_KEY: optionalText,
  AZURE_OPENAI_AUTH: oneOf(AZURE_AUTH_MODES, 'key'),
  // The Entra ID audience: a classic resource or a sovereign cloud needs another (azure-openai.ts).
  AZURE_OPENAI_TOKEN_SCOPE: tokenScope,

  TWILIO_AUTH_TOKEN: optionalText,
  TWILIO_ACCOUNT_SID: accountSid,
  TWILIO_VALIDATE_SIGNATURES: booleanString(true),
  STREAM_TOKEN_TTL_S: integer(60, 5, 86400),
  TWILIO_API_BASE_URL: url(['http', 'https']),
  FALLBACK_MESSAGE: textWithDefault(
    'Sorry, our assistant is having technical difficulties right now.',
  ),
  FALLBACK_DIAL: phoneNumber,
  TWILIO_PHONE_NUMBER: phoneNumber,

  API_TOKEN: optionalText,
  TOOL_TIMEOUT_MS: integer(10000, 100, 300000),
  END_CALL_TOOL: booleanString(true),
  TRANSFER_TOOL: booleanString(true),
  TRANSFER_NUMBER: transferNumberEnv,
  TRANSFER_ALLOWED_NUMBERS: transferListEnv,
  DTMF_TO_MODEL: booleanString(true),
  DTMF_INTERRUPTS: booleanString(true),
  RECOVERY_MESSAGE: textWithDefault(
    'Sorry, I lost my train of thought there. Could you say that again?',
  ).superRefine(boundedSentence),
  CALL_PROFILES: jsonText(callProfilesSchema, () => ({})),
  METRICS_TOKEN: optionalText,
  API_DOCS: booleanString(false),
  CALL_EVENTS_WEBHOOK_URL: url(['http', 'https']),
  CALL_EVENTS_WEBHOOK_SECRET: optionalText,

  MAX_CONCURRENT_CALLS: integer(500, 1, 100000),
  MAX_CALL_DURATION_S: integer(3600, 1, 86400),
  MEDIA_IDLE_TIMEOUT_S: integer(30, 2, 3600),
  SHUTDOWN_DRAIN_S: integer(30, 0, 3600),
  MAX_PENDING_STREAMS: integer(50, 1, 10000),
  STREAM_START_TIMEOUT_MS: integer(5000, 500, 60000),
  STREAM_REPLAY_MEMORY_S: integer(86400, 86400, 30 * 86400),
  MAX_SSE_FOLLOWERS: integer(500, 1, 10000),
  MAX_SSE_FOLLOWERS_PER_CALL: integer(200, 1, 10000),
  SSE_MAX_DURATION_S: integer(7200, 1, 86400),
  MAX_LISTENERS_PER_CALL: integer(5, 1, 100),

  // Cluster mode (several instances, one Redis): see docs/deploy.md.
  REDIS_URL: redisUrl,
  INSTANCE_ID: optionalText.refine(
    (value) => value === undefined || /^[A-Za-z0-9._:-]{1,64}$/.test(value),
    {
      message: 'expected 1-64 letters, digits, ".", "_", ":" or "-"',
    },
  ),
  CLUSTER_MAX_CALLS: optionalInteger(1, 1_000_000),
  // Signs every message of the cluster bus (required with REDIS_URL; checked in env.rules.ts).
  CLUSTER_SECRET: optionalText,

  // Call history (src/history/, docs/history.md): an embedded database under DATA_DIR, or
  // PostgreSQL at DATABASE_URL (required in cluster mode; checked in env.rules.ts).
  HISTORY: booleanString(true),
  DATA_DIR: textWithDefault('./data'),
  DATABASE_URL: databaseUrl,
  HISTORY_RETENTION_DAYS: integer(90, 1, 36500),
  PRICE_TABLE: priceTable,

  // Recordings (src/recording/): shared with the recordings module, named as issue 27 has them.
  RECORDING: booleanString(false),
  RECORDINGS_DIR: optionalText,
  RECORDINGS_S3_BUCKET: optionalText,
  RECORDINGS_S3_ENDPOINT: url(['http', 'https']),
  RECORDINGS_S3_REGION: optionalText,
  RECORDINGS_S3_PREFIX: optionalText,
  RECORDING_NOTICE: optionalText.refine((value) => value === undefined || value.length <= 1000, {
    message: 'must be at most 1000 characters (a sentence said before the call connects)',
  }),
  RECORDING_RETENTION_DAYS: integer(30, 1, 36500),
});

export type ParsedEnv = z.output<typeof envSchema>;

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

const FIELDS = Object.keys(envSchema.shape);

/** Inserts a field's problem among the schema's, which come in field order. */
function inFieldOrder(problems: string[], line: string): void {
  const rank = (text: string) => FIELDS.indexOf(text.split(':', 1)[0]);
  const after = problems.findIndex((problem) => rank(problem) > rank(line));
  problems.splice(after === -1 ? problems.length : after, 0, line);
}

/** Parses the environment, throwing one error that lists every problem found. */
export function parseEnv(env: Record<string, unknown>): ParsedEnv {
  const strings: Record<string, string | undefined> = Object.fromEntries(
    Object.keys(envSchema.shape).map((key) => [
      key,
      typeof env[key] === 'string' ? env[key] : undefined,
    ]),
  );
  const result = envSchema.safeParse(strings);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  // Required or not by the mode (Azure), so not the field's own rule; listed where it would be.
  for (const line of openAiKeyRequiredProblems(strings)) inFieldOrder(problems, line);
  problems.push(...crossFieldProblems(strings, result.success ? result.data : undefined));
  if (!result.success || problems.length > 0) throw new ConfigValidationError(problems);
  return result.data;
}
