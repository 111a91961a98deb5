import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { CallEvent, TwilioBridgeModule, type CallEndedEvent } from 'twilio-realtime-bridge';
import { CallerSettings, CallerSettingsModule } from '../../examples/caller-settings.module.js';
import { StoreHoursModule } from '../../examples/store-hours.module.js';
import { startBridgeTest, STEP_TIMEOUT_MS, type BridgeTest } from './index.js';

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

  // The kit hears the bridge's events itself, whatever emitter (if any) the team's app has:
  // a default EventEmitter2 never matches 'call.*', yet the team's exact names still work.
  it.each([
    ['its own default EventEmitterModule', [EventEmitterModule.forRoot()]],
    ['its own wildcard EventEmitterModule', [EventEmitterModule.forRoot({ wildcard: true })]],
    ['no EventEmitterModule', []],
  ])('reports the call to the test as to an app with %s', async (_, emitter) => {
    @Injectable()
    class CallAudit {
      readonly ended: string[] = [];
      @OnEvent(CallEvent.Ended)
      onEnded(event: CallEndedEvent) {
        this.ended.push(event.callSid);
      }
    }
    @Module({
      imports: [...emitter, TwilioBridgeModule.forRoot({ history: { enabled: false } })],
      providers: [CallAudit],
    })
    class AuditedAppModule {}
    bridge = await startBridgeTest({ module: AuditedAppModule });

    const call = await bridge.placeCall();
    await call.callerSays('Hello?');
    const { record } = await call.hangUp();

    expect(record.outcome).toBe('completed');
    expect(call.transcript()).toEqual([{ role: 'caller', text: 'Hello?' }]);
    expect(bridge.events().map((event) => event.event)).toEqual([
      'call.started',
      'call.transcript',
      'call.ended',
    ]);
    expect(bridge.app.get(CallAudit).ended).toEqual([call.callSid]);
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

  it("tests an app whose settings name its own Twilio account, calling from the kit's", async () => {
    @Module({
      imports: [
        TwilioBridgeModule.forRoot({
          twilio: { accountSid: 'AC0123456789abcdef0123456789abcdef' },
          history: { enabled: false },
        }),
      ],
    })
    class AccountAppModule {}
    bridge = await startBridgeTest({ module: AccountAppModule });

    const call = await bridge.placeCall();

    expect(call.events()).toContainEqual(expect.objectContaining({ event: 'call.started' }));
  });

  it("fails placeCall at once with the bridge's reason when it refuses the stream", async () => {
    // A test that names another account than the kit's Twilio calls from: refused, and why.
    bridge = await startBridgeTest({
      settings: { twilio: { accountSid: 'AC0123456789abcdef0123456789abcdef' } },
    });

    const started = Date.now();
    await expect(bridge.placeCall()).rejects.toThrow(
      /closed the media stream \(code 1008: start\.accountSid AC0+1 is not TWILIO_ACCOUNT_SID\)/,
    );
    expect(Date.now() - started).toBeLessThan(STEP_TIMEOUT_MS / 2);
  });

  it("fails placeCall at once with the bridge's reason when the model's session fails", async () => {
    bridge = await startBridgeTest();
    bridge.model.rejectWithStatus = 401;

    const started = Date.now();
    await expect(bridge.placeCall()).rejects.toThrow(/closed the media stream \(code 1011: .+\)/);
    expect(Date.now() - started).toBeLessThan(STEP_TIMEOUT_MS / 2);
  });

  it('fails a step at once, saying how, when the call ends while it waits', async () => {
    bridge = await startBridgeTest();
    const call = await bridge.placeCall();

    // Nothing is playing, so no clear ever comes; meanwhile the model's socket drops and its
    // reconnect is refused, which fails the call.
    const started = Date.now();
    bridge.model.rejectWithStatus = 401;
    call.model.socket.terminate();
    await expect(call.interrupt()).rejects.toThrow(
      /gave up waiting for the bridge to stop the answer .*: call CA\w+ ended \(outcome failed: /,
    );
    expect(Date.now() - started).toBeLessThan(STEP_TIMEOUT_MS / 2);
  });

  it('starts the forRoot example of docs/extending.md: a resolver its module provides, by useExisting', async () => {
    @Module({
      imports: [
        TwilioBridgeModule.forRoot({
          twilio: { accountSid: 'AC0123456789abcdef0123456789abcdef' },
          history: { enabled: false },
          settingsResolver: { useExisting: CallerSettings },
        }),
        CallerSettingsModule,
      ],
    })
    class AppModule {}
    bridge = await startBridgeTest({ module: AppModule });

    const call = await bridge.placeCall({ from: '+15550009999' });

    const { session } = await call.model.waitFor('session.update');
    expect(session).toMatchObject({ audio: { output: { voice: 'marin' } } });
  });

  it('says to pass { useExisting } when a resolver class given to forRoot needs a provider of the app', async () => {
    @Module({
      imports: [
        TwilioBridgeModule.forRoot({
          history: { enabled: false },
          settingsResolver: CallerSettings,
        }),
        CallerSettingsModule,
      ],
    })
    class AppModule {}

    await expect(startBridgeTest({ module: AppModule })).rejects.toThrow(
      /dependencies of the CallerSettings[\s\S]*If CallerSettings is a settingsResolver or toolResolver given as a class, .* pass \{ useExisting: CallerSettings \}/,
    );
  });

  it('calls an app that mounts the bridge under a RouterModule path, with no webhookPath given', async () => {
    @Module({
      imports: [
        TwilioBridgeModule.forRoot({ history: { enabled: false } }),
        RouterModule.register([{ path: 'phone', module: TwilioBridgeModule }]),
      ],
    })
    class MountedAppModule {}
    bridge = await startBridgeTest({ module: MountedAppModule });

    const call = await bridge.placeCall();

    expect(call.events()).toContainEqual(expect.objectContaining({ event: 'call.started' }));
  });
});
