/**
 * Secrets the kit's bridge runs with, shaped like real ones so they pass the bridge's start-up
 * rules (a Twilio Auth Token is 32 hexadecimal characters). Fixed, so a failure reproduces; they
 * open nothing anywhere: the kit's Twilio and OpenAI are loopback fakes.
 */
export const TEST_TWILIO_AUTH_TOKEN = '5f0c9a2e7b41d6838e2f1a9c0b7d4e63';
/** The kit's OPENAI_API_KEY: the fake model takes any Bearer key. */
export const TEST_OPENAI_API_KEY = 'sk-test-SECRET-key-never-logged-42';
