// The fake Realtime model lives in the testing kit (src/testing/): one fake model in the repo.
export { FakeRealtimeServer } from '../../src/testing/fake-realtime-server.js';
export {
  FakeRealtimeConnection,
  type RealtimeClientEvent,
} from '../../src/testing/fake-realtime-connection.js';
