import { startBridgeTest, type BridgeTest } from 'twilio-realtime-bridge/testing';
import { StoreHoursModule } from './store-hours.module.js';

describe('get_store_hours', () => {
  let bridge: BridgeTest;

  beforeEach(async () => {
    bridge = await startBridgeTest({ imports: [StoreHoursModule] });
  });

  afterEach(() => bridge.close());

  it("answers Saturday's hours, and greets a known caller by name", async () => {
    const call = await bridge.placeCall({ from: '+15550001111' });

    await call.callerSays('When are you open on Saturday?');
    const tool = await call.modelCallsTool('get_store_hours', { day: 'saturday' });
    await call.modelSays('We are open from ten to four on Saturday, Ada.');
    const { record } = await call.hangUp();

    expect(JSON.parse(tool.output)).toEqual({
      day: 'saturday',
      hours: '10:00-16:00',
      greet: 'Ada',
    });
    expect(call.transcript()).toEqual([
      { role: 'caller', text: 'When are you open on Saturday?' },
      { role: 'tool', text: expect.stringContaining('get_store_hours') },
      { role: 'assistant', text: 'We are open from ten to four on Saturday, Ada.' },
    ]);
    expect(call.events()).toContainEqual(
      expect.objectContaining({ event: 'call.tool', name: 'get_store_hours', ok: true }),
    );
    expect(record).toMatchObject({ outcome: 'completed', turns: { caller: 1, assistant: 1 } });
  });
});
