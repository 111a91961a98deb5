import type { ParsedEnv } from './env.schema.js';
import { azureProblems } from './azure-openai.js';
import { secretProblems, type RawEnv } from './secret-rules.js';

/**
 * Rules that span variables, or that look at a secret as a whole. Checked on the raw strings so
 * that they are reported alongside every problem the schema finds; `parsed` is there only when
 * the schema itself passed.
 */
export function crossFieldProblems(env: RawEnv, parsed?: ParsedEnv): string[] {
  const problems = [...secretProblems(env), ...azureProblems(env)];
  if (env.CALL_EVENTS_WEBHOOK_URL?.trim() && !env.CALL_EVENTS_WEBHOOK_SECRET?.trim()) {
    problems.push(
      'CALL_EVENTS_WEBHOOK_SECRET: is required with CALL_EVENTS_WEBHOOK_URL (it signs each delivery)',
    );
  }
  if (parsed && parsed.HTTP_HEADERS_TIMEOUT_MS > parsed.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push(
      `HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS (${parsed.HTTP_REQUEST_TIMEOUT_MS})`,
    );
  }
  // Each pod's disk is its own: in a cluster, a recording must land where every pod reads it.
  if (parsed?.REDIS_URL && parsed.RECORDING && !parsed.RECORDINGS_S3_BUCKET) {
    problems.push(
      'RECORDINGS_S3_BUCKET: is required with REDIS_URL and RECORDING=on (a shared store)',
    );
  }
  return problems;
}
