import { io, type Socket } from 'socket.io-client';
import { startBridgeTest, type BridgeTest } from 'twilio-realtime-bridge/testing';
import { AppModule } from '../src/app.module.js';
import { OrderStatusTool } from '../src/order-status.module.js';

describe('the host app with the bridge inside', () => {
  let bridge: BridgeTest;

  beforeEach(async () => {
    // The whole app as main.ts runs it, with the kit's fake model and Twilio in place of the real ones.
    bridge = await startBridgeTest({ module: AppModule });
  });

  afterEach(() => bridge.close());

  it("calls the team's tool with the caller's order number, and the model gets its answer", async () => {
    const call = await bridge.placeCall({ from: '+15550001111' });

    await call.callerSays('Where is my order A1234?');
    const tool = await call.modelCallsTool('get_order_status', { orderId: 'A1234' });
    await call.modelSays('Your order A1234 has shipped.');
    const { record } = await call.hangUp();

    expect(tool.arguments).toEqual({ orderId: 'A1234' });
    expect(JSON.parse(tool.output)).toEqual({
      orderId: 'A1234',
      status: 'shipped',
      caller: '+15550001111',
    });
    expect(call.transcript()).toContainEqual({ role: 'caller', text: 'Where is my order A1234?' });
    expect(record.outcome).toBe('completed');
    expect(bridge.app.get(OrderStatusTool).endedCalls).toEqual([call.callSid]);
  });

  it('keeps answering on its own REST route', async () => {
    const response = await fetch(`${bridge.baseUrl}/status`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ service: 'host-app', ok: true });
  });

  it('keeps its socket.io gateway answering on the same port', async () => {
    const socket: Socket = io(bridge.baseUrl, { path: '/chat', transports: ['websocket'] });
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        socket.once('connect_error', reject);
        socket.once('pong', resolve);
        socket.emit('ping', 'hello');
      });
      expect(reply).toBe('pong: hello');
    } finally {
      socket.close();
    }
  });
});
