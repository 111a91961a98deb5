import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConfigValidationError, parseEnv } from '../src/config/env.schema.js';
import { EXAMPLE_SECRET_VALUES } from '../src/config/secret-rules.js';
import { TEST_TWILIO_AUTH_TOKEN } from './support/secrets.js';

// Every value our examples give a secret must be one the bridge refuses at start: whoever copies
// an example and forgets to replace it gets a clear refusal, never a running bridge with a
// published token. A new example value fails here until it is added to EXAMPLE_SECRET_VALUES.

const ROOT = new URL('..', import.meta.url).pathname;

/** What a user copies from: the env template, the deployments, the README, the docs, the examples. */
function exampleFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir)).flatMap((name) => {
      const path = join(dir, name);
      if (name === 'node_modules' || name === 'dist') return [];
      return statSync(join(ROOT, path)).isDirectory() ? walk(path) : [path];
    });
  return [
    '.env.example',
    'docker-compose.yml',
    'README.md',
    ...['docs', 'deploy', 'examples'].flatMap(walk),
  ];
}

/** The variables holding a secret; REDIS_PASSWORD is the password that goes into REDIS_URL. */
const SECRETS = [
  'OPENAI_API_KEY',
  'TWILIO_AUTH_TOKEN',
  'API_TOKEN',
  'METRICS_TOKEN',
  'CALL_EVENTS_WEBHOOK_SECRET',
  'CLUSTER_SECRET',
  'REDIS_PASSWORD',
] as const;
type SecretName = (typeof SECRETS)[number] | 'REDIS_URL';

interface Found {
  name: SecretName;
  value: string;
  file: string;
}

/**
 * Literal secret values in `text`: `NAME=value` (env files, shell), `NAME: value` (YAML, code),
 * `${NAME:-default}` (compose), the simulator's `--auth-token` / `--api-token`, and the password
 * of a `REDIS_URL`. A value made at run time (`$VAR`, `$(openssl ...)`, printf's `%s`) is none.
 */
function literalSecrets(text: string, file: string): Found[] {
  const names = [...SECRETS, 'REDIS_URL'].join('|');
  // `NAME: value` in prose is an error message ("OPENAI_API_KEY: is required"), not a value.
  const separator = /\.(md)$/.test(file) ? '=' : '[=:]';
  const found: Found[] = [];
  const add = (name: SecretName, raw: string) => {
    const value = raw.trim();
    if (value !== '' && !/^[$%]/.test(value)) found.push({ name, value, file });
  };
  const assignment = new RegExp(
    `(?<!\\$\\{)\\b(${names})\\s*${separator}[ \\t]*["']?([^\\s"'\`]*)`,
    'g',
  );
  for (const [, name, value] of text.matchAll(assignment)) {
    if (name !== 'REDIS_URL') add(name as SecretName, value);
    else if (URL.canParse(value)) add('REDIS_URL', decodeURIComponent(new URL(value).password));
  }
  for (const [, name, value] of text.matchAll(new RegExp(`\\$\\{(${names}):?-([^}]*)\\}`, 'g'))) {
    add(name as SecretName, value);
  }
  const flags = { 'auth-token': 'TWILIO_AUTH_TOKEN', 'api-token': 'API_TOKEN' } as const;
  for (const [, flag, value] of text.matchAll(/--(auth-token|api-token)[ =]["']?([^\s"']*)/g)) {
    add(flags[flag as keyof typeof flags], value);
  }
  return found;
}

const inList = (value: string) =>
  EXAMPLE_SECRET_VALUES.some((example) => example.toLowerCase() === value.toLowerCase());

/** parseEnv's problem lines for `name=value` on top of an otherwise valid environment. */
function problemsFor(name: SecretName, value: string): string[] {
  const env: Record<string, string> = {
    OPENAI_API_KEY: 'sk-proj-9Qh2xLw7Vd0cTe4Rk8Ub3Nm6',
    TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN,
    CLUSTER_SECRET: 'f3b1c9d2e8a7465b90c1d2e3f4a5b6c7',
  };
  if (name === 'REDIS_URL' || name === 'REDIS_PASSWORD') {
    env.REDIS_URL = `redis://:${encodeURIComponent(value)}@redis:6379/0`;
  } else env[name] = value;
  try {
    parseEnv(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
}

describe('secret values shipped in our examples', () => {
  const found = exampleFiles().flatMap((file) =>
    literalSecrets(readFileSync(join(ROOT, file), 'utf8'), relative(ROOT, join(ROOT, file))),
  );

  it('finds the examples it guards (the .env.example key, the Kubernetes placeholders)', () => {
    expect(found).toEqual(
      expect.arrayContaining([
        { name: 'OPENAI_API_KEY', value: 'sk-...', file: '.env.example' },
        { name: 'API_TOKEN', value: 'replace-me', file: 'deploy/k8s/secret.yaml' },
        { name: 'REDIS_URL', value: 'replace-me', file: 'deploy/k8s/secret.yaml' },
      ]),
    );
  });

  it('are each in EXAMPLE_SECRET_VALUES', () => {
    expect(found.filter(({ value }) => !inList(value))).toEqual([]);
  });

  it('are each refused at start for the variable they are shown for', () => {
    const accepted = found.filter(({ name, value }) => {
      const problemName = name === 'REDIS_PASSWORD' ? 'REDIS_URL' : name;
      return !problemsFor(name, value).some((line) => line.startsWith(`${problemName}: `));
    });
    expect(accepted).toEqual([]);
  });

  it('would catch a new example that ships a token the rules accept', () => {
    const text = [
      'API_TOKEN=3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e',
      '  METRICS_TOKEN: "scrape-token-of-the-docs-example"',
      'npm run simulate -- --auth-token 0123456789abcdef0123456789abcdef',
      'CLUSTER_SECRET: ${CLUSTER_SECRET:-cluster-secret-of-the-compose-file-0001}',
      'REDIS_URL: redis://:redis-password-of-the-example@redis:6379/0',
      'API_TOKEN=$(openssl rand -hex 32) TWILIO_AUTH_TOKEN="$TWILIO_AUTH_TOKEN"',
    ].join('\n');
    const shipped = literalSecrets(text, 'deploy/new-example.yaml');
    expect(shipped.map(({ name }) => name)).toEqual([
      'API_TOKEN',
      'METRICS_TOKEN',
      'REDIS_URL',
      'CLUSTER_SECRET',
      'TWILIO_AUTH_TOKEN',
    ]);
    expect(shipped.filter(({ value }) => inList(value))).toEqual([]);
  });
});
