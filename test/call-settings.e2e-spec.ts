import { Injectable, Logger, Module } from '@nestjs/common';
import {
  CALL_SETTINGS_RESOLVER,
  CALL_SETTINGS_TIMEOUT_MS,
  RealtimeTool,
  type CallDescription,
  type CallSettingsChoice,
  type CallSettingsResolver,
} from 'twilio-realtime-bridge';
import { jest } from '@jest/globals';
import { CallerSettingsModule } from '../examples/caller-settings.module.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { FakeTwilioCall } from './support/fake-twilio.js';
import { modelCallsTool, outputsOf } from './support/tool-calls.js';
import { waitUntil } from './support/wait.js';

const VIP = '+15550009999';
const DEFAULT_INSTRUCTIONS = 'You answer for the shop.';

@Injectable()
class ShopTools {
  static readonly handled: string[] = [];

  @RealtimeTool({ name: 'order_status', description: 'Where an order is.' })
  status() {
    ShopTools.handled.push('order_status');
    return { status: 'shipped' };
  }

  @RealtimeTool({ name: 'refund', description: 'Refunds an order.' })
  refund() {
    ShopTools.handled.push('refund');
    return { refunded: true };
  }
}

/** What a team writes: its CRM says who calls; a VIP gets another voice and one tool. */
@Injectable()
class CrmSettings implements CallSettingsResolver {
  static readonly asked: CallDescription[] = [];

  async resolve(call: CallDescription): Promise<Partial<CallSettingsChoice> | undefined> {
    CrmSettings.asked.push(call);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the CRM lookup
    if (call.from !== VIP) return undefined;
    return {
      voice: 'marin',
      instructions: 'Greet the VIP by name.',
      tools: ['order_status'],
      // VIPs get a patient turn end and their language's transcription.
      turnDetection: { type: 'semantic_vad', eagerness: 'low' },
      transcription: { model: 'gpt-4o-transcribe', language: 'de' },
    };
  }
}

@Module({
  providers: [
    ShopTools,
    CrmSettings,
    { provide: CALL_SETTINGS_RESOLVER, useExisting: CrmSettings },
  ],
})
class CrmModule {}

/** A CRM that never answers. */
@Module({
  providers: [
    ShopTools,
    {
      provide: CALL_SETTINGS_RESOLVER,
      useValue: {
        resolve: () => new Promise<never>(() => undefined),
      } satisfies CallSettingsResolver,
    },
  ],
})
class HangingCrmModule {}

interface Session {
  instructions: string;
  audio: {
    input: { turn_detection: unknown; transcription?: unknown };
    output: { voice: string };
  };
  tools: Array<{ name: string }>;
}

describe('the per-call settings resolver', () => {
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge | undefined;

  const start = async (module: object) => {
    bridge = await startBridge(
      {
        OPENAI_REALTIME_URL: openai.url,
        AUDIO_INPUT_FORMAT: 'g711_ulaw',
        OPENAI_VOICE: 'alloy',
        AI_INSTRUCTIONS: DEFAULT_INSTRUCTIONS,
        TURN_DETECTION: 'server_vad',
        INPUT_TRANSCRIPTION_MODEL: 'gpt-4o-mini-transcribe',
      },
      [module as never],
    );
    return bridge;
  };

  async function callIn(from?: string) {
    const started = Date.now();
    const call = await FakeTwilioCall.dial(bridge!.baseUrl, { from });
    const upstream: FakeRealtimeConnection = await openai.connection(openai.connections.length);
    await upstream.waitFor('session.update');
    const session = upstream.received[0].session as Session;
    return { call, upstream, session, tookMs: Date.now() - started };
  }

  beforeEach(async () => {
    ShopTools.handled.length = 0;
    CrmSettings.asked.length = 0;
    openai = new FakeRealtimeServer();
    await openai.start();
  });

  afterEach(async () => {
    await bridge?.close();
    bridge = undefined;
    await openai.stop();
  });

  it("gives caller A the resolver's voice, instructions and tools, and caller B the defaults", async () => {
    await start(CrmModule);
    const a = await callIn(VIP);
    expect(a.session.audio.output.voice).toBe('marin');
    expect(a.session.instructions).toBe('Greet the VIP by name.');
    expect(a.session.tools.map((tool) => tool.name)).toEqual(['order_status']);

    const b = await callIn('+15550001111');
    expect(b.session.audio.output.voice).toBe('alloy');
    expect(b.session.instructions).toBe(DEFAULT_INSTRUCTIONS);
    const names = b.session.tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['order_status', 'refund', 'end_call']));

    expect(CrmSettings.asked).toEqual([
      expect.objectContaining({
        callSid: a.call.callSid,
        from: VIP,
        to: '+15550002222',
        direction: 'inbound',
        profile: undefined,
        customParameters: expect.objectContaining({ From: VIP }),
        defaults: expect.objectContaining({ voice: 'alloy', instructions: DEFAULT_INSTRUCTIONS }),
      }),
      expect.objectContaining({ callSid: b.call.callSid, from: '+15550001111' }),
    ]);
  });

  it("sends the resolver's turn detection and transcription in the session.update, the env's otherwise", async () => {
    await start(CrmModule);
    const vip = await callIn(VIP);
    expect(vip.session.audio.input.turn_detection).toEqual({
      type: 'semantic_vad',
      eagerness: 'low',
    });
    expect(vip.session.audio.input.transcription).toEqual({
      model: 'gpt-4o-transcribe',
      language: 'de',
    });

    const other = await callIn('+15550001111');
    expect(other.session.audio.input.turn_detection).toEqual({
      type: 'server_vad',
      create_response: true,
      interrupt_response: true,
    });
    expect(other.session.audio.input.transcription).toEqual({ model: 'gpt-4o-mini-transcribe' });
    expect(CrmSettings.asked[1].defaults).toMatchObject({
      turnDetection: { type: 'server_vad' },
      transcription: { model: 'gpt-4o-mini-transcribe' },
    });
  });

  it('answers a call of a tool outside the subset with an error output, without its handler', async () => {
    await start(CrmModule);
    const { upstream } = await callIn(VIP);
    modelCallsTool(upstream, 'r1', 'c1', 'refund', {}).done();
    await waitUntil(() => outputsOf(upstream).length === 1, 'the tool output');
    const item = outputsOf(upstream)[0].item as { call_id: string; output: string };
    expect(item.call_id).toBe('c1');
    expect(JSON.parse(item.output)).toEqual({
      error: 'tool "refund" is not available on this call',
    });
    expect(ShopTools.handled).toEqual([]);

    // A tool it was offered still runs.
    modelCallsTool(upstream, 'r2', 'c2', 'order_status', {}).done();
    await waitUntil(() => outputsOf(upstream).length === 2, 'the second output');
    expect(ShopTools.handled).toEqual(['order_status']);
  });

  it('falls back to the defaults when the resolver does not answer in time', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    await start(HangingCrmModule);
    const { call, session, tookMs } = await callIn(VIP);
    expect(session.audio.output.voice).toBe('alloy');
    expect(session.instructions).toBe(DEFAULT_INSTRUCTIONS);
    expect(session.tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['order_status', 'refund']),
    );
    expect(tookMs).toBeGreaterThanOrEqual(CALL_SETTINGS_TIMEOUT_MS - 50);
    expect(warn).toHaveBeenCalledWith(
      `call ${call.callSid}: the settings resolver failed (no answer within ${CALL_SETTINGS_TIMEOUT_MS} ms); using the defaults`,
    );
    warn.mockRestore();
  }, 15_000);

  it('examples/caller-settings.module.ts: a VIP from the CRM gets its voice and only end_call', async () => {
    await start(CallerSettingsModule);
    const vip = await callIn(VIP);
    expect(vip.session.audio.output.voice).toBe('marin');
    expect(vip.session.instructions).toBe(`${DEFAULT_INSTRUCTIONS} The caller is Grace, a VIP.`);
    expect(vip.session.tools.map((tool) => tool.name)).toEqual(['end_call']);
    const other = await callIn('+15550001111');
    expect(other.session.audio.output.voice).toBe('alloy');
  });
});
