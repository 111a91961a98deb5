// Twilio's real-time playback lives in the testing kit (src/testing/twilio-playback.ts).
export { TwilioPlayback } from '../../src/testing/twilio-playback.js';
