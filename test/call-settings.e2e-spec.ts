import { Injectable, Logger, Module } from '@nestjs/common';
import {
  CALL_SETTINGS_RESOLVER,
  CALL_SETTINGS_TIMEOUT_MS,
  CALL_TOOL_RESOLVER,
  RealtimeTool,
  type CallToolResolver,
  type CallDescription,
  type CallSettingsChoice,
  type CallSettingsResolver,
} from 'twilio-realtime-bridge';
import { jest } from '@jest/globals';
import { CallerSettingsModule } from '../examples/caller-settings.module.js';
import { MAX_SAY_CHARS } from '../src/call/call-context.js';
import { MAX_INSTRUCTIONS_BYTES } from '../src/realtime/session-bounds.js';
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

/** A CRM whose prompt field grew: the VIP's fills the bound exactly, everyone else's is 2 MB. */
@Module({
  providers: [
    ShopTools,
    {
      provide: CALL_SETTINGS_RESOLVER,
      useValue: {
        resolve: (call) => ({
          voice: 'marin',
          instructions: 'x'.repeat(call.from === VIP ? MAX_INSTRUCTIONS_BYTES : 2 * 1024 * 1024),
          tools: ['order_status'],
        }),
      } satisfies CallSettingsResolver,
    },
  ],
})
class OversizedPromptModule {}

/** A greeting pasted from a script: over MAX_SAY_CHARS, so the answer is a failed one. */
@Module({
  providers: [
    {
      provide: CALL_SETTINGS_RESOLVER,
      useValue: {
        resolve: () => ({ voice: 'marin', greeting: 'Hello. '.repeat(MAX_SAY_CHARS / 5) }),
      } satisfies CallSettingsResolver,
    },
  ],
})
class LongGreetingModule {}

/** A tool resolver that answers with a list far longer than any registry (a bug upstream). */
@Module({
  providers: [
    ShopTools,
    {
      provide: CALL_TOOL_RESOLVER,
      useValue: {
        resolve: () => Array.from({ length: 2000 }, (_, i) => (i ? `junk_${i}` : 'order_status')),
      } satisfies CallToolResolver,
    },
  ],
})
class EndlessToolListModule {}

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

  it('refuses a resolver answer with instructions over MAX_INSTRUCTIONS_BYTES: that call gets the defaults', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    await start(OversizedPromptModule);
    const atBound = await callIn(VIP);
    expect(atBound.session.instructions).toHaveLength(MAX_INSTRUCTIONS_BYTES);
    expect(atBound.session.audio.output.voice).toBe('marin');

    const over = await callIn('+15550001111');
    // A size first: a failure then prints a number, not 2 MB of instructions.
    expect(JSON.stringify(over.upstream.received[0]).length).toBeLessThan(64 * 1024);
    // The whole answer is refused, as a failed resolver's is: voice and tools too.
    expect(over.session.instructions).toBe(DEFAULT_INSTRUCTIONS);
    expect(over.session.audio.output.voice).toBe('alloy');
    expect(over.session.tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['order_status', 'refund']),
    );
    expect(warn).toHaveBeenCalledWith(
      `call ${over.call.callSid}: the settings resolver failed (it chose instructions of ` +
        '2,097,152 bytes, over MAX_INSTRUCTIONS_BYTES (65,536)); using the defaults',
    );
    warn.mockRestore();
  });

  it('refuses a resolver answer whose greeting is over MAX_SAY_CHARS: that call gets the defaults', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    await start(LongGreetingModule);
    const { call, session } = await callIn(VIP);
    expect(session.audio.output.voice).toBe('alloy');
    expect(warn).toHaveBeenCalledWith(
      `call ${call.callSid}: the settings resolver failed (it chose a greeting of 1400 ` +
        'characters, over MAX_SAY_CHARS (1000)); using the defaults',
    );
    warn.mockRestore();
  });

  it('refuses a tool resolver answer of more names than MAX_TOOLS: that call keeps its tools', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    await start(EndlessToolListModule);
    const { call, session } = await callIn(VIP);
    expect(session.tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['order_status', 'refund', 'end_call']),
    );
    expect(warn).toHaveBeenCalledWith(
      `call ${call.callSid}: the tool resolver failed (it chose 2,000 tool names, over ` +
        'MAX_TOOLS (128)); using the defaults',
    );
    warn.mockRestore();
  });

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
