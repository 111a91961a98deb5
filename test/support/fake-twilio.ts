// Twilio's side of a call lives in the testing kit (src/testing/twilio-caller.ts).
export {
  FakeTwilioCall,
  parseStreamTwiml,
  postTwiml,
  testSid,
  TEST_ACCOUNT_SID,
  type CallerOptions,
  type StreamInstructions,
  type TwilioFrame,
  type WebhookCall,
} from '../../src/testing/twilio-caller.js';
// The bridge's TWILIO_AUTH_TOKEN in tests, by the name the tests import it.
export { TEST_TWILIO_AUTH_TOKEN as TEST_AUTH_TOKEN } from '../../src/testing/test-secrets.js';
