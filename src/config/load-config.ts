import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv as parseDotEnv } from 'node:util';
import { ConfigValidationError, envSchema, parseEnv, type ParsedEnv } from './env.schema.js';

/** The bridge's configuration, parsed once: what every namespace and `main.ts` read. */
export interface BridgeConfig {
  env: ParsedEnv;
  /** The `.env` file that was read, if one was. */
  envFile?: string;
}

/**
 * Settings given in code, by the names of their environment variables (docs/configuration.md):
 * `{ OPENAI_VOICE: 'marin', MAX_CONCURRENT_CALLS: 50 }`. Numbers and booleans are written as
 * they would be in the environment; the same schema then checks every value.
 */
export type BridgeSettings = { [K in keyof ParsedEnv]?: string | number | boolean };

export interface LoadConfigOptions {
  /** Settings given in code; they win over `env` and the file. A name the bridge does not know is an error. */
  settings?: BridgeSettings;
  /** Variables that win over the file (default `process.env`). */
  env?: Record<string, string | undefined>;
  /**
   * The `.env` file, or `false` for none. Default `./.env` in the working directory, except
   * under `NODE_ENV=test`: tests set their environment explicitly, and a developer's `.env`
   * must not leak into them.
   */
  envFile?: string | false;
}

/**
 * Reads `.env` (when present) under the process environment, which wins as with dotenv, and
 * validates the result once, throwing a ConfigValidationError that lists every problem.
 */
export function loadBridgeConfig(options: LoadConfigOptions = {}): BridgeConfig {
  const env = options.env ?? process.env;
  const envFile =
    options.envFile === undefined
      ? env.NODE_ENV === 'test'
        ? false
        : resolve(process.cwd(), '.env')
      : options.envFile && resolve(options.envFile);
  const fromFile = envFile ? readEnvFile(envFile) : undefined;
  const merged: Record<string, string | undefined> = { ...fromFile };
  for (const [key, value] of Object.entries(env)) if (value !== undefined) merged[key] = value;
  const problems = mergeSettings(merged, options.settings);
  let parsed: ParsedEnv | undefined;
  try {
    parsed = parseEnv(merged);
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    problems.push(...error.problems);
  }
  // Every problem at once: a misspelt setting in code alongside a bad value in the environment.
  if (problems.length > 0 || !parsed) throw new ConfigValidationError(problems);
  return { env: parsed, envFile: fromFile ? envFile || undefined : undefined };
}

/** Writes code-given settings over `merged` as environment strings; returns what was wrong. */
function mergeSettings(merged: Record<string, string | undefined>, settings: unknown): string[] {
  if (settings === undefined) return [];
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    return ['settings: expected an object of settings by variable name'];
  }
  const problems: string[] = [];
  for (const [key, value] of Object.entries(settings)) {
    if (!Object.hasOwn(envSchema.shape, key)) {
      // In the environment an unknown name is someone else's variable; in code it is a typo.
      problems.push(`${key}: not a setting of the bridge (docs/configuration.md lists them)`);
    } else if (typeof value === 'string') merged[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') merged[key] = String(value);
    else if (value !== undefined) {
      problems.push(`${key}: expected a string, number or boolean, got ${describe(value)}`);
    }
  }
  return problems;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a value of type ${typeof value}`;
}

function readEnvFile(path: string): Record<string, string> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return parseDotEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    throw new ConfigValidationError([`${path}: cannot be read (${(error as Error).message})`]);
  }
}
