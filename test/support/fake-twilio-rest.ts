// The loopback api.twilio.com lives in the testing kit (src/testing/fake-twilio-rest.ts).
export {
  FakeTwilioRest,
  type FakePhoneNumber,
  type RecordedRestRequest,
} from '../../src/testing/fake-twilio-rest.js';
