import { Injectable, Module, Scope } from '@nestjs/common';
import { CallContext, RealtimeTool } from 'twilio-realtime-bridge';
import { z } from 'zod';
import { TableBookingModule } from '../examples/table-booking.module.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { FakeTwilioCall } from './support/fake-twilio.js';
import { modelCallsTool, outputsOf } from './support/tool-calls.js';
import { waitUntil } from './support/wait.js';

// What a team writes: everything below comes from the package's name, not from src/.
const BookTable = z.object({
  date: z.iso.date().transform((day) => new Date(`${day}T00:00:00Z`)),
  guests: z.number().int().min(1).max(8).describe('How many people, 1 to 8'),
  note: z.string().optional(),
});

interface Booking {
  callSid: string;
  args: z.infer<typeof BookTable>;
}

/** A per-call provider holding the call's state; its tool runs on the call's own instance. */
@Injectable({ scope: Scope.REQUEST })
class TableBooking {
  static readonly created: string[] = [];
  static readonly handled: Booking[] = [];
  private booked = 0;

  constructor(private readonly call: CallContext) {
    TableBooking.created.push(call.callSid);
  }

  @RealtimeTool({ name: 'book_table', description: 'Books a table.', parameters: BookTable })
  async book(args: z.infer<typeof BookTable>, call: CallContext) {
    TableBooking.handled.push({ callSid: call.callSid, args });
    this.booked++;
    return {
      // Only a Date (the schema's output), not the model's string, has getUTCDay().
      weekday: args.date.getUTCDay(),
      guests: args.guests,
      bookedThisCall: this.booked,
      sameCall: call === this.call,
      // The instance the tool runs on is the one the rest of the call resolves.
      sameInstance: (await call.resolve(TableBooking)) === this,
    };
  }
}

@Module({ providers: [TableBooking] })
class BookingModule {}

const outputOf = (upstream: FakeRealtimeConnection, n: number) => {
  const item = outputsOf(upstream)[n].item as { call_id: string; output: string };
  return { callId: item.call_id, output: JSON.parse(item.output) as Record<string, unknown> };
};

describe('typed tools on per-call providers', () => {
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge;

  beforeEach(async () => {
    TableBooking.created.length = 0;
    TableBooking.handled.length = 0;
    openai = new FakeRealtimeServer();
    await openai.start();
    bridge = await startBridge(
      { OPENAI_REALTIME_URL: openai.url, AUDIO_INPUT_FORMAT: 'g711_ulaw' },
      [BookingModule],
    );
  });

  afterEach(async () => {
    await bridge.close();
    await openai.stop();
  });

  async function callIn() {
    const call = await FakeTwilioCall.dial(bridge.baseUrl);
    const upstream = await openai.connection(openai.connections.length);
    await upstream.waitFor('session.update');
    return { call, upstream };
  }

  it('shows the model the JSON Schema derived from the zod schema', async () => {
    const { upstream } = await callIn();
    const tools = (upstream.received[0].session as { tools: Array<Record<string, unknown>> }).tools;
    expect(tools.find((tool) => tool.name === 'book_table')).toEqual({
      type: 'function',
      name: 'book_table',
      description: 'Books a table.',
      parameters: {
        type: 'object',
        properties: {
          date: expect.objectContaining({ type: 'string', format: 'date' }),
          guests: {
            type: 'integer',
            minimum: 1,
            maximum: 8,
            description: 'How many people, 1 to 8',
          },
          note: { type: 'string' },
        },
        required: ['date', 'guests'],
      },
    });
  });

  it("hands valid arguments to the handler as the schema's output, on the call's own instance", async () => {
    const { call, upstream } = await callIn();
    modelCallsTool(upstream, 'r1', 'c1', 'book_table', { date: '2026-12-05', guests: 4 }).done();
    await waitUntil(() => outputsOf(upstream).length === 1, 'the tool output');

    expect(outputOf(upstream, 0)).toEqual({
      callId: 'c1',
      output: { weekday: 6, guests: 4, bookedThisCall: 1, sameCall: true, sameInstance: true },
    });
    expect(TableBooking.handled).toEqual([
      { callSid: call.callSid, args: { date: new Date('2026-12-05T00:00:00Z'), guests: 4 } },
    ]);
    await upstream.waitFor('response.create');
  });

  it('answers invalid arguments with an error output saying what was wrong, without calling the handler', async () => {
    const { upstream } = await callIn();
    modelCallsTool(upstream, 'r1', 'c1', 'book_table', { date: 'next friday', guests: 12 }).done();
    await waitUntil(() => outputsOf(upstream).length === 1, 'the tool output');

    const { output } = outputOf(upstream, 0);
    expect(output.error).toMatch(/^invalid arguments for book_table: /);
    expect(output.error).toMatch(/date: [^;]*date/i);
    expect(output.error).toMatch(/guests: [^;]*8/);
    expect(output.error).toMatch(/Call book_table again/);
    expect(TableBooking.handled).toEqual([]);
    // The model is asked to go on, so it can call again with corrected arguments.
    await upstream.waitFor('response.create');
  });

  it('creates the per-call provider once per call, however many times its tool runs', async () => {
    const first = await callIn();
    modelCallsTool(first.upstream, 'r1', 'c1', 'book_table', { date: '2026-12-05', guests: 2 });
    modelCallsTool(first.upstream, 'r1', 'c2', 'book_table', { date: '2026-12-06', guests: 3 });
    await waitUntil(() => outputsOf(first.upstream).length === 2, 'both outputs');
    const second = await callIn();
    modelCallsTool(second.upstream, 'r2', 'c3', 'book_table', { date: '2026-12-07', guests: 5 });
    await waitUntil(() => outputsOf(second.upstream).length === 1, 'the output');

    expect(TableBooking.created).toEqual([first.call.callSid, second.call.callSid]);
    const counts = [0, 1].map((n) => outputOf(first.upstream, n).output.bookedThisCall);
    expect(counts.sort()).toEqual([1, 2]);
    expect(outputOf(second.upstream, 0).output.bookedThisCall).toBe(1);
  });
});

describe('a function call with oversized arguments', () => {
  const API_TOKEN = 'typed-tools-api-token-4c1f9e27b8d3';
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge;

  beforeEach(async () => {
    TableBooking.handled.length = 0;
    openai = new FakeRealtimeServer();
    await openai.start();
    bridge = await startBridge(
      { OPENAI_REALTIME_URL: openai.url, AUDIO_INPUT_FORMAT: 'g711_ulaw', API_TOKEN },
      [BookingModule],
    );
  });

  afterEach(async () => {
    await bridge.close();
    await openai.stop();
  });

  /** A 1 MB call the handler would take (`note` is any string), in a function_call item. */
  const oversizedItem = (callId: string) => ({
    id: `item_${callId}`,
    type: 'function_call',
    status: 'completed',
    call_id: callId,
    name: 'book_table',
    arguments: JSON.stringify({ date: '2026-12-05', guests: 2, note: 'n'.repeat(1024 * 1024) }),
  });

  /**
   * The model's call reaches the bridge only in `send` (one of the events that can carry it);
   * the call's event stream is read to its end.
   */
  async function modelCallsOversized(send: (upstream: FakeRealtimeConnection) => void) {
    const call = await FakeTwilioCall.dial(bridge.baseUrl);
    const upstream = await openai.connection(0);
    await upstream.waitFor('session.update');
    const events = await fetch(`${bridge.baseUrl}/api/calls/${call.callSid}/events`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(events.status).toBe(200);
    upstream.send({ type: 'response.created', response: { id: 'r1', status: 'in_progress' } });
    send(upstream);
    await waitUntil(() => outputsOf(upstream).length === 1, 'the tool output');
    const output = outputOf(upstream, 0);
    call.stop();
    return { output, sse: await events.text() };
  }

  function expectRefused({ output, sse }: Awaited<ReturnType<typeof modelCallsOversized>>) {
    expect(output.callId).toBe('c1');
    expect(output.output.error).toMatch(/over the limit of \d+; the tool was not run/);
    expect(TableBooking.handled).toEqual([]);
    // The follower got every event, none of them anywhere near the 1 MB the model sent.
    expect(sse).toMatch(/event: call\.tool\ndata: \{.*"ok":false/);
    expect(sse).toMatch(/event: call\.ended/);
    expect(sse).not.toMatch(/^: dropped/m);
    expect(Math.max(...sse.split('\n').map((line) => line.length))).toBeLessThan(64 * 1024);
  }

  it('is refused with an error output, never run, when it comes only in response.done', async () => {
    expectRefused(
      await modelCallsOversized((upstream) =>
        upstream.send({
          type: 'response.done',
          response: { id: 'r1', status: 'completed', output: [oversizedItem('c1')] },
        }),
      ),
    );
  });

  it('is refused with an error output, never run, when it comes only in output_item.done', async () => {
    expectRefused(
      await modelCallsOversized((upstream) => {
        upstream.send({
          type: 'response.output_item.done',
          response_id: 'r1',
          output_index: 0,
          item: oversizedItem('c1'),
        });
        upstream.send({ type: 'response.done', response: { id: 'r1', status: 'completed' } });
      }),
    );
  });
});

describe('examples/table-booking.module.ts', () => {
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge;

  beforeEach(async () => {
    openai = new FakeRealtimeServer();
    await openai.start();
    bridge = await startBridge(
      { OPENAI_REALTIME_URL: openai.url, AUDIO_INPUT_FORMAT: 'g711_ulaw' },
      [TableBookingModule],
    );
  });

  afterEach(async () => {
    await bridge.close();
    await openai.stop();
  });

  it("keeps each call's bookings to itself, up to the limit", async () => {
    const book = async (upstream: FakeRealtimeConnection, callId: string) => {
      const before = outputsOf(upstream).length;
      modelCallsTool(upstream, `r_${callId}`, callId, 'book_table', {
        date: '2026-12-05',
        guests: 2,
      }).done();
      await waitUntil(() => outputsOf(upstream).length === before + 1, `output of ${callId}`);
      return outputOf(upstream, before).output;
    };
    const first = await FakeTwilioCall.dial(bridge.baseUrl);
    const upstream = await openai.connection(0);
    await upstream.waitFor('session.update');
    const sid = first.callSid.slice(-4);
    expect(await book(upstream, 'c1')).toEqual({
      ok: true,
      reference: `${sid}-1`,
      under: '+15550001111',
    });
    expect(await book(upstream, 'c2')).toMatchObject({ ok: true, reference: `${sid}-2` });
    expect(await book(upstream, 'c3')).toEqual({
      ok: false,
      reason: 'At most 2 bookings per call.',
    });

    const second = await FakeTwilioCall.dial(bridge.baseUrl);
    const next = await openai.connection(1);
    await next.waitFor('session.update');
    expect(await book(next, 'c4')).toMatchObject({
      ok: true,
      reference: `${second.callSid.slice(-4)}-1`,
    });
  });
});

// An async client factory per call: what it makes is known only when it runs, so the tools of
// the class it is provided under cannot be trusted to be on it. Refused, never dropped silently.
@Injectable()
class Crm {
  constructor(readonly call: CallContext) {}

  @RealtimeTool({ name: 'crm_lookup', description: 'Look the caller up' })
  lookup() {
    return { from: this.call.from };
  }
}

@Module({
  providers: [
    {
      provide: Crm,
      scope: Scope.REQUEST,
      useFactory: (call: CallContext) => Promise.resolve(new Crm(call)),
      inject: [CallContext],
    },
  ],
})
class CrmModule {}

describe('a tool on a per-call factory provider', () => {
  it('stops the application from starting, naming the provider and what to do instead', async () => {
    const started = await startBridge({}, [CrmModule]).catch((error: Error) => error);
    if (!(started instanceof Error)) await started.close();
    expect(started).toBeInstanceOf(Error);
    expect((started as Error).message).toMatch(
      /Realtime tool "crm_lookup" is on Crm\.lookup, but Crm is provided by a per-call factory \(useFactory\).*Provide Crm as a class/,
    );
  });
});
