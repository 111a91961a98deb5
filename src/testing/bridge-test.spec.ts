import { Controller, Get, Module } from '@nestjs/common';
import { TwilioBridgeModule } from 'twilio-realtime-bridge';
import { StoreHoursModule } from '../../examples/store-hours.module.js';
import { startBridgeTest, type BridgeTest } from './index.js';

// The kit's tool-call step is shown (and run) by examples/store-hours.spec.ts, which
// docs/extending.md quotes; here, the rest of what a script can do.
describe('the testing kit', () => {
  let bridge: BridgeTest | undefined;

  afterEach(async () => {
    await bridge?.close();
    bridge = undefined;
  });

  it('plays a barge-in: the caller cuts the answer, the bridge stops it where they stopped hearing', async () => {
    bridge = await startBridgeTest();
    const call = await bridge.placeCall();

    await call.modelSays('A very long answer about every branch we have', { audioMs: 4000 });
    await new Promise((resolve) => setTimeout(resolve, 600));
    const { heardMs } = await call.interrupt('Stop, I only need Paris');

    expect(heardMs).toBeGreaterThan(300);
    expect(heardMs).toBeLessThan(4000);
    expect(call.events()).toContainEqual(
      expect.objectContaining({ event: 'call.interrupted', by: 'speech' }),
    );
  });

  it('tells a transfer from a hang-up', async () => {
    bridge = await startBridgeTest({ settings: { transfer: { number: '+15550009999' } } });
    const call = await bridge.placeCall();

    const tool = await call.modelCallsTool('transfer_call', {});
    await call.modelSays('Transferring you now.');
    const ending = await call.ended();

    expect(JSON.parse(tool.output)).toMatchObject({ ok: true });
    expect(ending.record.outcome).toBe('transferred');
    expect(ending.transferredTo).toBe('+15550009999');
  });

  it("starts a team's own app module, whose routes keep answering", async () => {
    @Controller('orders')
    class OrdersController {
      @Get()
      list(): string[] {
        return ['order-1'];
      }
    }
    // The team's module reads the bridge's settings from its environment; the kit's win.
    @Module({
      imports: [
        TwilioBridgeModule.forRoot({ env: {}, envFile: false, history: { enabled: false } }),
        StoreHoursModule,
      ],
      controllers: [OrdersController],
    })
    class TeamAppModule {}
    bridge = await startBridgeTest({ module: TeamAppModule });

    const call = await bridge.placeCall();
    const tool = await call.modelCallsTool('get_store_hours', { day: 'sunday' });

    expect(JSON.parse(tool.output)).toMatchObject({ hours: 'closed' });
    expect(await (await fetch(`${bridge.baseUrl}/orders`)).json()).toEqual(['order-1']);
  });

  it('calls an app whose settings name its production host, on loopback', async () => {
    @Module({
      imports: [
        TwilioBridgeModule.forRoot({
          publicUrl: 'https://voice.example.com',
          history: { enabled: false },
        }),
      ],
    })
    class ProductionAppModule {}
    bridge = await startBridgeTest({ module: ProductionAppModule });

    const call = await bridge.placeCall({ from: '+15550003333', to: '+15550004444' });

    expect(call.events()).toContainEqual(
      expect.objectContaining({ event: 'call.started', from: '+15550003333', to: '+15550004444' }),
    );
  });

  it('fails a step on a call that has ended at once, saying so', async () => {
    bridge = await startBridgeTest();
    const call = await bridge.placeCall();
    await call.hangUp();

    const started = Date.now();
    await expect(call.callerSays('Hello?')).rejects.toThrow(
      /callerSays\("Hello\?"\): call CA\w+ has already ended \(outcome completed/,
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
