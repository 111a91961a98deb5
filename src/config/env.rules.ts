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
  problems.push(...clusterStoreProblems(parsed));
  return problems;
}

/**
 * In a cluster every instance must read and write the same history and recordings: one
 * database per pod, or recordings on one pod's disk, would each show a part of the calls.
 */
function clusterStoreProblems(parsed?: ParsedEnv): string[] {
  if (!parsed?.REDIS_URL) return [];
  const problems: string[] = [];
  if (parsed.HISTORY && !parsed.DATABASE_URL) {
    problems.push(
      'DATABASE_URL: is required with REDIS_URL while HISTORY is on (every instance shares one history; or set HISTORY=off)',
    );
  }
  if (parsed.RECORDING && !parsed.RECORDINGS_S3_BUCKET) {
    problems.push(
      'RECORDINGS_S3_BUCKET: is required with REDIS_URL and RECORDING=on (every instance serves every recording)',
    );
  }
  return problems;
}
