import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv as parseDotEnv } from 'node:util';
import type { BridgeSettings } from './bridge-settings.js';
import { ConfigValidationError, parseEnv, type ParsedEnv } from './env.schema.js';
import { nameProblems, settingsToEnv } from './settings-to-env.js';

/** The bridge's configuration, parsed once: what every namespace and `main.ts` read. */
export interface BridgeConfig {
  env: ParsedEnv;
  /** The `.env` file that was read, if one was. */
  envFile?: string;
}

/**
 * The bridge's configuration, validated once (a ConfigValidationError lists every problem).
 *
 * - No settings: the process environment over `./.env` (which it wins over, as with dotenv),
 *   exactly as `npm start` reads it.
 * - Settings: those settings and the defaults, and nothing else unless `env` / `envFile` ask
 *   for an environment under them. Problems with a setting given in code name its path
 *   (`openai.apiKey: ...`); with the environment, its variable.
 */
export function loadBridgeConfig(settings?: BridgeSettings): BridgeConfig {
  const given = settings ?? { env: true };
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new ConfigValidationError(['options: expected an object of settings']);
  }
  const source = environmentOf(given);
  const fromCode = settingsToEnv(given as Record<string, unknown>);
  const problems = [...source.problems, ...fromCode.problems];
  const merged = { ...source.env, ...fromCode.env };
  let parsed: ParsedEnv | undefined;
  try {
    parsed = parseEnv(merged);
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    const optionsOnly = settings !== undefined && source.empty;
    problems.push(...nameProblems(error.problems, new Set(Object.keys(fromCode.env)), optionsOnly));
  }
  if (problems.length > 0 || !parsed) throw new ConfigValidationError(problems);
  return { env: parsed, envFile: source.file };
}

interface Environment {
  env: Record<string, string | undefined>;
  /** Nothing was asked of the environment: the options are the whole configuration. */
  empty: boolean;
  file?: string;
  problems: string[];
}

/** The environment the settings asked for (`env`, `envFile`), the file under the variables. */
function environmentOf(settings: BridgeSettings): Environment {
  const { env, envFile } = settings;
  const problems: string[] = [];
  if (env !== undefined && env !== true && (typeof env !== 'object' || env === null)) {
    problems.push('env: expected true (the process environment) or an object of variables');
  }
  if (envFile !== undefined && envFile !== false && typeof envFile !== 'string') {
    problems.push('envFile: expected the path of a .env file, or false');
  }
  if (problems.length > 0) return { env: {}, empty: false, problems };
  const variables = env === true ? process.env : (env ?? {});
  // A developer's .env must not leak into tests, which set their environment explicitly.
  const path =
    envFile === undefined
      ? env === true && variables.NODE_ENV !== 'test'
        ? resolve(process.cwd(), '.env')
        : undefined
      : envFile || undefined;
  const fromFile = path ? readEnvFile(resolve(path)) : undefined;
  const merged: Record<string, string | undefined> = { ...fromFile };
  for (const [key, value] of Object.entries(variables))
    if (value !== undefined) merged[key] = value;
  return {
    env: merged,
    empty: env === undefined && envFile === undefined,
    file: fromFile && path ? resolve(path) : undefined,
    problems,
  };
}

function readEnvFile(path: string): Record<string, string> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return parseDotEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    throw new ConfigValidationError([`${path}: cannot be read (${(error as Error).message})`]);
  }
}
