import { randomBytes } from 'node:crypto';

/**
 * Secrets for tests, shaped like real ones so that they pass the bridge's start-up rules
 * (src/config/secret-rules.ts): a Twilio Auth Token is 32 hexadecimal characters, an API token at
 * least 24 random characters. Fixed, so a failure reproduces; the `random*` helpers give a
 * second, different one (another team's token, a wrong token that is still well formed).
 */
export { TEST_OPENAI_API_KEY, TEST_TWILIO_AUTH_TOKEN } from '../../src/testing/test-secrets.js';
export const TEST_API_TOKEN = 'c3Jq8wVt0LmZ2pXe7KdN4yHs9BfUa6Gr';

/** A well-formed Twilio Auth Token other than TEST_TWILIO_AUTH_TOKEN. */
export function randomTwilioAuthToken(): string {
  return randomBytes(16).toString('hex');
}

/** A well-formed API token other than TEST_API_TOKEN. */
export function randomApiToken(): string {
  return randomBytes(24).toString('base64url');
}

/** An Azure OpenAI resource key: 32 hexadecimal characters, as the portal shows them. */
export const TEST_AZURE_OPENAI_API_KEY = '9d3f6b1ae0c84f27b5d2a7e61c0f4b93';
