/**
 * The REST bases a test's bridge gets unless the test brings a fake: a closed loopback port, never
 * api.twilio.com or api.openai.com (test/fixtures/no-internet.mjs fails a suite that looks either
 * up). OpenAI's only outside Azure mode, where the endpoint gives it.
 */
export function offlineRestUrls(env: Record<string, string | undefined>): Record<string, string> {
  return {
    TWILIO_API_BASE_URL: 'http://127.0.0.1:9',
    ...(env.AZURE_OPENAI_ENDPOINT ? {} : { OPENAI_API_BASE_URL: 'http://127.0.0.1:9/v1' }),
  };
}
