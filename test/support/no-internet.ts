import { join } from 'node:path';

/**
 * What a test gives a process or an app it starts so that nothing reaches the internet (CI has
 * none, and a test that quietly tried would only fail if the answer mattered): the guard that
 * refuses and reports any name outside loopback (test/fixtures/no-internet.mjs; the test
 * environment fails the suite it reports), and REST bases that point at a closed loopback port
 * unless the test brings a fake.
 */

/** `node` arguments that load the guard into a child process before its own code. */
export const NO_INTERNET_IMPORT = [
  '--import',
  join(import.meta.dirname, '..', 'fixtures', 'no-internet.mjs'),
];

/**
 * Never api.twilio.com or api.openai.com: a closed port unless the test's own `env` names a fake.
 * OpenAI's only outside Azure mode, where the endpoint gives it.
 */
export function offlineRestUrls(env: Record<string, string | undefined>): Record<string, string> {
  return {
    TWILIO_API_BASE_URL: 'http://127.0.0.1:9',
    ...(env.AZURE_OPENAI_ENDPOINT ? {} : { OPENAI_API_BASE_URL: 'http://127.0.0.1:9/v1' }),
  };
}

/** A child process's environment: the guard's log, the offline REST bases, then `env`. */
export function offlineEnv(
  env: Record<string, string | undefined>,
): Record<string, string | undefined> {
  return { NO_INTERNET_LOG: process.env.NO_INTERNET_LOG, ...offlineRestUrls(env), ...env };
}
