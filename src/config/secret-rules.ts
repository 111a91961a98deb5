/**
 * Secrets that cannot be real: a value copied from our own examples and never replaced, a
 * guessable API token, a Twilio Auth Token of the wrong shape. Refused at start-up, one line per
 * variable, never echoing the value (at most its length).
 */

/**
 * Every value our examples ship (or once shipped) for a secret: `.env.example`,
 * `deploy/k8s/secret.yaml`, the README and docs/. Each is refused for every secret below, so a
 * deployment that copied an example and forgot a value does not start.
 * `test/example-secrets.spec.ts` scans the examples and fails if one ships a value not listed.
 */
export const EXAMPLE_SECRET_VALUES: readonly string[] = [
  // .env.example and docs/sip.md (OPENAI_API_KEY); docs/deploy.md writes `...` for every secret.
  'sk-...',
  '...',
  // deploy/k8s/secret.yaml: every secret, and the passwords inside REDIS_URL and DATABASE_URL.
  'replace-me',
  // docs/operations.md before issue 25 (the demo model walk-through).
  'demo',
  'local-secret',
  'local-api',
];

/** API_TOKEN's minimum length: 24 random characters are far beyond guessing through the API. */
export const API_TOKEN_MIN_LENGTH = 24;

/** CLUSTER_SECRET's minimum length in bytes (256 bits, HMAC-SHA256's key size). */
export const CLUSTER_SECRET_MIN_BYTES = 32;

/** Twilio Auth Tokens are 32 hexadecimal characters; anything else is not one. */
const TWILIO_AUTH_TOKEN_SHAPE = /^[0-9a-f]{32}$/i;

const GENERATE = 'generate one with openssl rand -hex 32';

/** The raw environment strings the rules read (before the schema's defaults). */
export type RawEnv = Readonly<Record<string, string | undefined>>;

function isExampleValue(value: string): boolean {
  const lower = value.toLowerCase();
  return EXAMPLE_SECRET_VALUES.some((example) => example.toLowerCase() === lower);
}

function placeholder(name: string, hint: string): string {
  return `${name}: is a placeholder from our examples, not a secret; ${hint}`;
}

const text = (value: string | undefined): string | undefined => value?.trim() || undefined;

/** API_TOKEN guards call control and the console: long, and not one of our examples. */
export function apiTokenProblems(env: RawEnv): string[] {
  const token = text(env.API_TOKEN);
  if (token === undefined) return [];
  if (isExampleValue(token)) return [placeholder('API_TOKEN', GENERATE)];
  return token.length < API_TOKEN_MIN_LENGTH
    ? [
        `API_TOKEN: must be at least ${API_TOKEN_MIN_LENGTH} characters long (got ${token.length}); ${GENERATE}`,
      ]
    : [];
}

/** Azure mode: AZURE_OPENAI_ENDPOINT set; OpenAI's own key is then not used at all. */
export function azureMode(env: RawEnv): boolean {
  return text(env.AZURE_OPENAI_ENDPOINT) !== undefined;
}

/** OPENAI_API_KEY is required, unless in Azure mode, where the bridge never sends it. */
export function openAiKeyRequiredProblems(env: RawEnv): string[] {
  return azureMode(env) || text(env.OPENAI_API_KEY) !== undefined
    ? []
    : ['OPENAI_API_KEY: is required (the key the bridge uses to open OpenAI Realtime sessions)'];
}

/**
 * OPENAI_API_KEY left at the example's value. Its own function because a deployment that does
 * not use the key at all (Azure mode) skips it.
 */
export function openAiKeyProblems(env: RawEnv): string[] {
  const key = text(env.OPENAI_API_KEY);
  return !azureMode(env) && key !== undefined && isExampleValue(key)
    ? [placeholder('OPENAI_API_KEY', 'set the API key of your OpenAI project')]
    : [];
}

/** AZURE_OPENAI_API_KEY left at the example's value (whether it is needed is azure-openai.ts's). */
export function azureKeyProblems(env: RawEnv): string[] {
  const key = text(env.AZURE_OPENAI_API_KEY);
  return key !== undefined && isExampleValue(key)
    ? [
        placeholder(
          'AZURE_OPENAI_API_KEY',
          'set a key of your Azure OpenAI resource (Azure portal: Keys and Endpoint)',
        ),
      ]
    : [];
}

/** Signatures are checked unless TWILIO_VALIDATE_SIGNATURES says false (the schema checks the word). */
export function signaturesOn(env: RawEnv): boolean {
  return !/^(false|0|no|off)$/i.test(env.TWILIO_VALIDATE_SIGNATURES?.trim() ?? '');
}

/** With signatures on, TWILIO_AUTH_TOKEN is required and has the shape of a real one. */
export function twilioAuthTokenProblems(env: RawEnv): string[] {
  if (!signaturesOn(env)) return [];
  const token = text(env.TWILIO_AUTH_TOKEN);
  if (token === undefined) {
    return [
      'TWILIO_AUTH_TOKEN: is required to check Twilio signatures (set TWILIO_VALIDATE_SIGNATURES=false only for local experiments)',
    ];
  }
  const where = 'the Auth Token from the Twilio Console (Account info)';
  if (isExampleValue(token)) return [placeholder('TWILIO_AUTH_TOKEN', `set ${where}`)];
  return TWILIO_AUTH_TOKEN_SHAPE.test(token)
    ? []
    : [
        `TWILIO_AUTH_TOKEN: expected 32 hexadecimal characters, ${where} (got ${token.length} characters)`,
      ];
}

/**
 * CLUSTER_SECRET authenticates every message between instances: without it anyone who can
 * reach Redis could order a transfer.
 */
export function clusterSecretProblems(env: RawEnv): string[] {
  const secret = text(env.CLUSTER_SECRET);
  if (secret === undefined) {
    return text(env.REDIS_URL)
      ? [
          `CLUSTER_SECRET: is required with REDIS_URL (at least ${CLUSTER_SECRET_MIN_BYTES} bytes; it signs every message between instances)`,
        ]
      : [];
  }
  if (isExampleValue(secret)) return [placeholder('CLUSTER_SECRET', GENERATE)];
  const bytes = Buffer.byteLength(secret, 'utf8');
  return bytes < CLUSTER_SECRET_MIN_BYTES
    ? [
        `CLUSTER_SECRET: must be at least ${CLUSTER_SECRET_MIN_BYTES} bytes long (got ${bytes}); e.g. openssl rand -hex 32`,
      ]
    : [];
}

/** The Redis password inside REDIS_URL, left at the Kubernetes example's placeholder. */
export function redisPasswordProblems(env: RawEnv): string[] {
  return urlPasswordProblems(env, 'REDIS_URL', 'Redis');
}

/** The password inside a URL setting (REDIS_URL, DATABASE_URL) left at an example's placeholder. */
function urlPasswordProblems(env: RawEnv, name: string, server: string): string[] {
  const value = text(env[name]);
  if (value === undefined || !URL.canParse(value)) return []; // the schema reports a bad URL
  const { password } = new URL(value);
  let decoded: string;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    decoded = password;
  }
  return decoded && isExampleValue(decoded)
    ? [placeholder(name, `its password is one; ${GENERATE} (for ${server} and the URL alike)`)]
    : [];
}

/** Secrets with no rule of their own beyond "not one of our examples". */
const OTHER_SECRETS = ['METRICS_TOKEN', 'CALL_EVENTS_WEBHOOK_SECRET'] as const;

/** Every secret rule; one line per variable that breaks one. */
export function secretProblems(env: RawEnv): string[] {
  return [
    ...twilioAuthTokenProblems(env),
    ...apiTokenProblems(env),
    ...openAiKeyProblems(env),
    ...azureKeyProblems(env),
    ...OTHER_SECRETS.flatMap((name) => {
      const value = text(env[name]);
      return value !== undefined && isExampleValue(value) ? [placeholder(name, GENERATE)] : [];
    }),
    ...clusterSecretProblems(env),
    ...redisPasswordProblems(env),
    ...urlPasswordProblems(env, 'DATABASE_URL', 'PostgreSQL'),
  ];
}
