// twilio-realtime-bridge/testing: the kit for a team's own tests of its tools and call flows,
// with no phone, no network beyond loopback and no OpenAI account (docs/extending.md shows a
// whole test). It runs in any test runner: nothing here imports Jest. test/public-api.spec.ts
// pins this list.
export { startBridgeTest, BridgeTest, type BridgeTestOptions } from './bridge-test.js';
export { TestCall, STEP_TIMEOUT_MS, type CallEnding, type TranscriptLine } from './test-call.js';
export { FakeRealtimeServer } from './fake-realtime-server.js';
export {
  FakeRealtimeConnection,
  type RealtimeClientEvent,
  type ScriptedToolCall,
} from './fake-realtime-connection.js';
export { FakeTwilioRest, type RecordedRestRequest } from './fake-twilio-rest.js';
export {
  FakeTwilioCall,
  TEST_ACCOUNT_SID,
  type CallerOptions,
  type TwilioFrame,
} from './twilio-caller.js';
export { CapturedLogs } from './captured-logs.js';
export { TEST_OPENAI_API_KEY, TEST_TWILIO_AUTH_TOKEN } from './test-secrets.js';
