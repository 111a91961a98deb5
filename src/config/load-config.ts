import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv as parseDotEnv } from 'node:util';
import { ConfigValidationError, parseEnv, type ParsedEnv } from './env.schema.js';

/** The bridge's configuration, parsed once: what every namespace and `main.ts` read. */
export interface BridgeConfig {
  env: ParsedEnv;
  /** The `.env` file that was read, if one was. */
  envFile?: string;
}

export interface LoadConfigOptions {
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
  return { env: parseEnv(merged), envFile: fromFile ? envFile || undefined : undefined };
}

function readEnvFile(path: string): Record<string, string> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return parseDotEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    throw new ConfigValidationError([`${path}: cannot be read (${(error as Error).message})`]);
  }
}
