import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { BridgeSettings } from 'twilio-realtime-bridge';
import { ConciergeAppModule } from '../examples/concierge.module.js';
import { CapturedLogs, TEST_API_KEY } from './support/bridge.js';
import { RESERVED_INSTRUCTIONS, reservedSessionChange } from './support/concierge.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { FakeTwilioCall } from './support/fake-twilio.js';
import { modelCallsTool, outputsOf } from './support/tool-calls.js';
import { waitUntil } from './support/wait.js';
import { randomTwilioAuthToken, TEST_TWILIO_AUTH_TOKEN } from './support/secrets.js';

// The "done" test of the extension API: an application of its own imports the bridge with
// forRootAsync, and examples/concierge.module.ts (quoted by the README and docs/extending.md)
// runs calls end to end over real sockets.

const ADA = '+15550009999';
const GRACE = '+15550008888';
const GUEST = '+15550001111';

interface Session {
  instructions?: string;
  tools?: Array<{ name: string }>;
  audio?: { input?: { turn_detection?: unknown }; output?: { voice?: string } };
}

const sessions = (upstream: FakeRealtimeConnection) =>
  upstream.eventsOfType('session.update').map((event) => event.session as Session);
const toolNames = (session: Session) => session.tools?.map((tool) => tool.name);
const output = (upstream: FakeRealtimeConnection, n: number) =>
  JSON.parse((outputsOf(upstream)[n].item as { output: string }).output) as Record<string, unknown>;
const responseInstructions = (upstream: FakeRealtimeConnection) =>
  upstream
    .eventsOfType('response.create')
    .map((event) => (event.response as { instructions?: string } | undefined)?.instructions);

describe('examples/concierge.module.ts in an application of its own', () => {
  const apps: INestApplication[] = [];
  const models: FakeRealtimeServer[] = [];

  async function startApp(extra: BridgeSettings, token = TEST_TWILIO_AUTH_TOKEN) {
    const openai = new FakeRealtimeServer();
    await openai.start();
    models.push(openai);
    const logs = new CapturedLogs();
    const app = await NestFactory.create(
      ConciergeAppModule.forConfig({
        openai: { apiKey: TEST_API_KEY, realtimeUrl: openai.url, ...extra.openai },
        twilio: { authToken: token, apiBaseUrl: 'http://127.0.0.1:9' },
        audio: { inputFormat: 'g711_ulaw' },
        limits: { shutdownDrainS: 0 },
        history: { enabled: false },
      }),
      { logger: logs, forceCloseConnections: true, abortOnError: false },
    );
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    const baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const callIn = async (from: string) => {
      const call = await FakeTwilioCall.dial(baseUrl, { from, authToken: token });
      const upstream = await openai.connection(openai.connections.length);
      await upstream.waitFor('session.update');
      return { call, upstream };
    };
    return { app, openai, logs, callIn };
  }

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(models.splice(0).map((model) => model.stop()));
  });

  it('offers each caller the tools and voice the resolver chose for them', async () => {
    const { callIn } = await startApp({ openai: { instructions: 'You are the concierge.' } });
    const member = await callIn(ADA);
    const guest = await callIn(GUEST);

    expect(sessions(member.upstream)[0]).toMatchObject({
      instructions: 'You are the concierge. The caller is Ada, a member.',
      audio: {
        input: { turn_detection: { type: 'semantic_vad', eagerness: 'low' } },
        output: { voice: 'marin' },
      },
    });
    expect(toolNames(sessions(member.upstream)[0])).toEqual(['reserve_table', 'end_call']);
    expect(sessions(guest.upstream)[0].instructions).toBe('You are the concierge.');
    expect(toolNames(sessions(guest.upstream)[0])).toEqual(['end_call']);
  });

  it('answers invalid arguments with an error output, without running the tool', async () => {
    const { callIn, logs } = await startApp({});
    const { upstream } = await callIn(ADA);

    modelCallsTool(upstream, 'r1', 'c1', 'reserve_table', { time: '7pm', guests: 12 }).done();
    await waitUntil(() => outputsOf(upstream).length === 1, 'the error output');

    expect(String(output(upstream, 0).error)).toMatch(
      /^invalid arguments for reserve_table: time: .+; guests: Too big: expected number to be <=8\./,
    );
    expect(sessions(upstream)).toHaveLength(1); // no updateSession: the handler never ran
    expect(logs.matching(/concierge for call/)).toEqual([]);
  });

  it('changes the session and says the sentence from the tool, one instance per call', async () => {
    const { callIn, logs } = await startApp({});
    const ada = await callIn(ADA);
    const grace = await callIn(GRACE);

    modelCallsTool(ada.upstream, 'r1', 'c1', 'reserve_table', { time: '19:30', guests: 2 }).done();
    await waitUntil(() => outputsOf(ada.upstream).length === 1, 'the reservation');
    expect(output(ada.upstream, 0)).toEqual({
      ok: true,
      reference: `${ada.call.callSid.slice(-4)}-1`,
    });

    // One session.update with exactly the change: the new instructions and tools, nothing else.
    await waitUntil(() => sessions(ada.upstream).length === 2, 'the session change');
    const change = sessions(ada.upstream)[1];
    expect(change).toEqual(reservedSessionChange());
    // say(): a response of its own, once r1 was done, before the tool's "go on".
    await waitUntil(() => responseInstructions(ada.upstream).length >= 1, 'the sentence');
    expect(responseInstructions(ada.upstream)[0]).toBe(
      'Say exactly this, and nothing else: "Done: a table for 2 at 19:30 tonight."',
    );

    // reserve_table is no longer offered on this call.
    modelCallsTool(ada.upstream, 'r2', 'c2', 'reserve_table', { time: '20:00', guests: 2 }).done();
    await waitUntil(() => outputsOf(ada.upstream).length === 2, 'the refusal');
    expect(output(ada.upstream, 1)).toEqual({
      error: 'tool "reserve_table" is not available on this call',
    });

    // The same instance all call long: it knows what was reserved, and counts on.
    modelCallsTool(ada.upstream, 'r3', 'c3', 'cancel_reservation', {}).done();
    await waitUntil(() => outputsOf(ada.upstream).length === 3, 'the cancellation');
    expect(output(ada.upstream, 2)).toEqual({ ok: true, cancelled: '19:30' });
    modelCallsTool(ada.upstream, 'r4', 'c4', 'reserve_table', { time: '21:00', guests: 3 }).done();
    await waitUntil(() => outputsOf(ada.upstream).length === 4, 'the second reservation');
    expect(output(ada.upstream, 3)).toMatchObject({ reference: `${ada.call.callSid.slice(-4)}-2` });

    // Another call has an instance of its own.
    modelCallsTool(grace.upstream, 'r1', 'c1', 'cancel_reservation', {}).done();
    await waitUntil(() => outputsOf(grace.upstream).length === 1, "grace's output");
    expect(output(grace.upstream, 0)).toMatchObject({
      error: 'tool "cancel_reservation" is not available on this call',
    });
    modelCallsTool(grace.upstream, 'r2', 'c2', 'reserve_table', {
      time: '18:00',
      guests: 4,
    }).done();
    await waitUntil(() => outputsOf(grace.upstream).length === 2, "grace's reservation");
    expect(output(grace.upstream, 1)).toMatchObject({
      reference: `${grace.call.callSid.slice(-4)}-1`,
    });

    expect(logs.matching(/concierge for call/).sort()).toEqual(
      [ada, grace].map(({ call }) => `log [Concierge] concierge for call ${call.callSid}`).sort(),
    );
  });

  it('configures a session opened after a reconnect with what updateSession changed', async () => {
    const { callIn, openai } = await startApp({});
    const { upstream } = await callIn(ADA);
    modelCallsTool(upstream, 'r1', 'c1', 'reserve_table', { time: '19:30', guests: 2 }).done();
    await waitUntil(() => sessions(upstream).length === 2, 'the session change');

    upstream.socket.terminate();
    const next = await openai.connection(1);
    await next.waitFor('session.update');
    expect(sessions(next)[0]).toMatchObject({
      instructions: RESERVED_INSTRUCTIONS,
      audio: { output: { voice: 'marin' } },
    });
    expect(toolNames(sessions(next)[0])).toEqual(['cancel_reservation', 'end_call']);
  });

  it('runs two differently configured applications in one process, without process.env', async () => {
    const envBefore = { ...process.env };
    const a = await startApp(
      { openai: { instructions: 'Concierge of hotel A.', voice: 'cedar' } },
      randomTwilioAuthToken(),
    );
    const b = await startApp(
      { openai: { instructions: 'Concierge of hotel B.', voice: 'sage' } },
      randomTwilioAuthToken(),
    );
    const [guestA, guestB] = await Promise.all([a.callIn(GUEST), b.callIn(GUEST)]);
    expect(sessions(guestA.upstream)[0]).toMatchObject({
      instructions: 'Concierge of hotel A.',
      audio: { output: { voice: 'cedar' } },
    });
    expect(sessions(guestB.upstream)[0]).toMatchObject({
      instructions: 'Concierge of hotel B.',
      audio: { output: { voice: 'sage' } },
    });
    const memberB = await b.callIn(ADA);
    expect(sessions(memberB.upstream)[0].instructions).toBe(
      'Concierge of hotel B. The caller is Ada, a member.',
    );
    expect(process.env).toEqual(envBefore);
  });
});
