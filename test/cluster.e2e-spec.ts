import { Redis } from 'ioredis';
import { createHmac, randomUUID } from 'node:crypto';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioRest } from './support/fake-twilio-rest.js';
import {
  FakeTwilioCall,
  parseStreamTwiml,
  postTwiml,
  TEST_ACCOUNT_SID,
  TEST_AUTH_TOKEN,
  type StreamInstructions,
} from './support/fake-twilio.js';
import { TestRedis } from './support/redis-server.js';
import { ServiceProcess } from './support/service-process.js';
import { waitUntil } from './support/wait.js';

// Three instances of the built service (A, B, C) on one real redis-server, as behind a load
// balancer without affinity: Twilio's webhook, its media stream and an operator's API call may
// each reach a different instance.

const API_TOKEN = 'cluster-api-token-0123456789';
/** Shared by the instances; 32+ bytes, as the configuration requires with REDIS_URL. */
const CLUSTER_SECRET = 'cluster-e2e-secret-7f3a9c1e5b2d4f6a8c0e';
const CLUSTER_MAX_CALLS = 2;

let redis: TestRedis;
let openai: FakeRealtimeServer;
let rest: FakeTwilioRest;
const services = new Map<string, ServiceProcess>();
/** Every caller a test opened: hung up after each test, so one failure does not cascade. */
const opened: FakeTwilioCall[] = [];

function env(instance: string): Record<string, string> {
  return {
    INSTANCE_ID: instance,
    REDIS_URL: redis.url,
    CLUSTER_SECRET,
    CLUSTER_MAX_CALLS: String(CLUSTER_MAX_CALLS),
    OPENAI_API_KEY: 'sk-cluster-test',
    TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
    TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
    OPENAI_REALTIME_URL: openai.url,
    TWILIO_API_BASE_URL: rest.url,
    API_TOKEN,
    SHUTDOWN_DRAIN_S: '20',
    TWILIO_PHONE_NUMBER: '+15550009999',
    TRANSFER_NUMBER: '+15550003333',
    LOG_LEVEL: 'info',
  };
}

async function start(instance: string): Promise<ServiceProcess> {
  const service = await ServiceProcess.start(env(instance));
  if (service.exited) throw new Error(`${instance} did not start:\n${service.logs}`);
  services.set(instance, service);
  return service;
}

const svc = (instance: string) => services.get(instance)!;

let counter = 0;
/** A CallSid in Twilio's format (CA + 32 hex). */
const newCallSid = () =>
  `CA${Date.now().toString(16).padStart(16, '0')}${(++counter).toString(16).padStart(16, '0')}`;

/** The webhook on one instance; the TwiML's stream, moved to another instance. */
async function webhook(on: string, callSid: string): Promise<{ status: number; xml: string }> {
  const response = await postTwiml(svc(on).baseUrl, {
    CallSid: callSid,
    From: '+15550001111',
    To: '+15550002222',
    AccountSid: TEST_ACCOUNT_SID,
  });
  return { status: response.status, xml: await response.text() };
}

function streamOn(instance: string, xml: string): StreamInstructions {
  const stream = parseStreamTwiml(xml);
  const url = new URL(stream.url);
  url.port = String(svc(instance).port);
  return { ...stream, url: url.toString() };
}

/** Webhook on `webhookOn`, stream on `streamOn`: a call as Twilio places it. */
async function dial(webhookOn: string, streamTo: string, callSid = newCallSid()) {
  const { status, xml } = await webhook(webhookOn, callSid);
  expect(status).toBe(200);
  const call = await FakeTwilioCall.open(streamOn(streamTo, xml), { callSid });
  opened.push(call);
  const connections = openai.connections.length;
  call.start();
  // The call is up once its OpenAI session is configured.
  await waitUntil(() => openai.connections.length > connections, `OpenAI for ${callSid}`, 10_000);
  const upstream = openai.connections[connections];
  await upstream.waitFor('session.update');
  return { call, upstream, callSid, xml };
}

interface ListedCall {
  callSid: string;
  instance: string;
  from?: string;
  to?: string;
  startedAt: string;
  direction: string;
}

async function listCalls(on: string): Promise<ListedCall[]> {
  return (await callList(on)).calls;
}

/** GET /api/calls on an instance: `partial` while it cannot read the cluster's store. */
async function callList(on: string): Promise<{ calls: ListedCall[]; partial?: boolean }> {
  const response = await fetch(`${svc(on).baseUrl}/api/calls`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { calls: ListedCall[]; partial?: boolean };
}

/** Polls `read` until `accept` holds, within `timeoutMs`. */
async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify(value)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A server-sent-event stream read as it arrives. */
class SseReader {
  text = '';
  done = false;
  private constructor(private readonly controller: AbortController) {}

  static async open(url: string): Promise<SseReader> {
    const controller = new AbortController();
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = new SseReader(controller);
    void (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          reader.text += decoder.decode(chunk, { stream: true });
        }
      } catch {
        // aborted
      }
      reader.done = true;
    })();
    return reader;
  }

  events(name: string): Record<string, unknown>[] {
    return [...this.text.matchAll(new RegExp(`event: ${name}\\ndata: (.*)\\n`, 'g'))].map(
      (m) => JSON.parse(m[1]) as Record<string, unknown>,
    );
  }

  close(): void {
    this.controller.abort();
  }
}

/**
 * A bus message as docs/security.md specifies the envelope, built here by hand with node:crypto
 * (not with the bridge's code): `secret` may be the cluster's or not.
 */
function sealed(secret: string, channel: string, body: unknown, ts = Date.now()): string {
  const text = JSON.stringify(body);
  const mac = createHmac('sha256', secret)
    .update(`bridge-bus/v1\n${channel}\n${ts}\n${text}`)
    .digest('hex');
  return JSON.stringify({ v: 1, ts, body: text, mac });
}

/** bridge_cluster_bus_rejected_total on one instance, all reasons summed. */
async function busRejections(on: string): Promise<number> {
  const text = await (await fetch(`${svc(on).baseUrl}/metrics`)).text();
  return [...text.matchAll(/^bridge_cluster_bus_rejected_total\{[^}]*\} (\d+)$/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
}

/** A plain Redis client, as anyone who can reach Redis has. */
async function withRedis<T>(run: (admin: Redis) => Promise<T>): Promise<T> {
  const admin = new Redis(redis.url);
  try {
    return await run(admin);
  } finally {
    admin.disconnect();
  }
}

async function endCall(call: FakeTwilioCall): Promise<void> {
  call.stop();
  await call.waitForClose(10_000);
}

beforeAll(async () => {
  redis = await TestRedis.start();
  openai = new FakeRealtimeServer();
  await openai.start();
  rest = new FakeTwilioRest();
  await rest.start();
  await Promise.all(['A', 'B', 'C'].map(start));
}, 60_000);

afterEach(async () => {
  for (const call of opened.splice(0)) if (call.closeCode === undefined) call.hangUp();
  const running = [...services.values()].find((service) => !service.exited);
  if (running && redis.running) {
    await eventually(
      async () => {
        const response = await fetch(`${running.baseUrl}/api/calls`, {
          headers: { authorization: `Bearer ${API_TOKEN}` },
        });
        return ((await response.json()) as { calls: unknown[] }).calls.length;
      },
      (count) => count === 0,
      'no call left after the test',
      15_000,
    ).catch(() => undefined);
  }
}, 30_000);

afterAll(async () => {
  await Promise.all([...services.values()].map((service) => service.kill('SIGKILL')));
  await openai?.stop();
  await rest?.stop();
  await redis?.destroy();
}, 30_000);

describe('cluster mode: three instances, one Redis', () => {
  it('runs a call whose webhook reached A and stream B; C lists it, streams its events and hangs it up once', async () => {
    const { call, callSid, xml } = await dial('A', 'B');

    const listed = await eventually(
      () => listCalls('C'),
      (calls) => calls.some((c) => c.callSid === callSid),
      'the call on C',
    );
    expect(listed.find((c) => c.callSid === callSid)).toMatchObject({
      callSid,
      instance: 'B',
      from: '+15550001111',
      to: '+15550002222',
      direction: 'inbound',
      startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
    });

    // SSE on C carries B's events.
    const sse = await SseReader.open(`${svc('C').baseUrl}/api/calls/${callSid}/events`);
    // Redis delivers to subscribers only: wait until C has subscribed before B emits.
    await eventually(
      async () => {
        call.send({
          event: 'dtmf',
          sequenceNumber: '99',
          streamSid: call.streamSid,
          dtmf: { track: 'inbound_track', digit: '7' },
        });
        await new Promise((resolve) => setTimeout(resolve, 200));
        return sse.events('call.dtmf').length;
      },
      (count) => count > 0,
      "B's call.dtmf on C's event stream",
    );
    expect(sse.events('call.dtmf')[0]).toMatchObject({ callSid, digit: '7' });

    // Hang-up from C: B acts on its sockets, and Twilio's REST API is asked once.
    const before = rest.requests.length;
    const hangup = await fetch(`${svc('C').baseUrl}/api/calls/${callSid}/hangup`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(hangup.status).toBe(200);
    expect(await hangup.json()).toEqual({ callSid, status: 'completed' });
    await call.waitForClose(10_000);
    await waitUntil(() => sse.events('call.ended').length === 1, 'call.ended on C', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 500)); // room for a duplicate to show
    const hangups = rest.requests.slice(before);
    expect(hangups).toHaveLength(1);
    expect(hangups[0]).toMatchObject({
      method: 'POST',
      path: expect.stringContaining(`/Calls/${callSid}.json`) as unknown,
      form: { Status: 'completed' },
    });
    await eventually(
      () => listCalls('A'),
      (calls) => !calls.some((c) => c.callSid === callSid),
      'the call to leave the list',
    );
    sse.close();

    // One stream per CallSid, cluster-wide: a replayed webhook on C gets no <Stream>, and the
    // captured stream (token and all) replayed on A is refused.
    const again = await webhook('C', callSid);
    expect(again.status).toBe(200);
    expect(again.xml).not.toContain('<Stream');
    const replay = await FakeTwilioCall.open(streamOn('A', xml), { callSid });
    opened.push(replay);
    replay.start();
    expect(await replay.waitForClose(5000)).toBe(1008);
  }, 60_000);

  it("shows B's call in C's console, hangs it up from there, and lists its record on A", async () => {
    const { call, callSid } = await dial('A', 'B');
    const consoleApi = (on: string, path: string, init: RequestInit = {}) =>
      fetch(`${svc(on).baseUrl}/console/api${path}`, {
        ...init,
        headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      });
    const rows = async (on: string, path: string) =>
      ((await (await consoleApi(on, path)).json()) as { calls: Array<Record<string, unknown>> })
        .calls;

    const listed = await eventually(
      () => rows('C', '/calls'),
      (calls) => calls.some((c) => c.callSid === callSid),
      "B's call in C's console",
    );
    expect(listed.find((c) => c.callSid === callSid)).toMatchObject({
      instance: 'B',
      state: 'remote',
      from: '+15550001111',
    });
    const onB = await rows('B', '/calls');
    expect(onB.find((c) => c.callSid === callSid)).toMatchObject({ instance: 'B' });
    expect(onB.find((c) => c.callSid === callSid)?.state).not.toBe('remote');

    const hangup = await consoleApi('C', `/calls/${callSid}/hangup`, { method: 'POST' });
    expect(hangup.status).toBe(200);
    await call.waitForClose(10_000);
    const recent = await eventually(
      () => rows('A', '/recent'),
      (calls) => calls.some((c) => (c.call as { callSid: string }).callSid === callSid),
      "the call's record among A's recent calls",
    );
    expect(recent.find((c) => (c.call as { callSid: string }).callSid === callSid)).toMatchObject({
      call: { instance: 'B', state: 'ended' },
    });
    const detail = await consoleApi('A', `/calls/${callSid}`);
    expect(detail.status).toBe(200);
    expect(await detail.json()).toMatchObject({ record: { callSid, instance: 'B' } });
  }, 60_000);

  it('places an outbound call on A whose webhook reaches B and stream C, with its plan', async () => {
    const created = await fetch(`${svc('A').baseUrl}/api/calls`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        to: '+15551112222',
        instructions: 'Remind them of the dentist.',
        greeting: 'Hi, it is the clinic.',
        parameters: { patient: 'p-7' },
      }),
    });
    expect(created.status).toBe(201);
    const { callSid } = (await created.json()) as { callSid: string };

    // The plan waited in Redis: B's TwiML carries its parameters, C's session its instructions.
    const { xml } = await webhook('B', callSid);
    expect(parseStreamTwiml(xml).parameters.patient).toBe('p-7');
    const call = await FakeTwilioCall.open(streamOn('C', xml), { callSid });
    opened.push(call);
    const connections = openai.connections.length;
    call.start();
    await waitUntil(() => openai.connections.length > connections, 'OpenAI', 10_000);
    const update = await openai.connections[connections].waitFor('session.update');
    expect((update.session as { instructions: string }).instructions).toBe(
      'Remind them of the dentist.',
    );
    const listed = await eventually(
      () => listCalls('A'),
      (calls) => calls.some((c) => c.callSid === callSid),
      'the outbound call listed on A',
    );
    expect(listed.find((c) => c.callSid === callSid)).toMatchObject({
      instance: 'C',
      direction: 'outbound',
    });

    // The greeting is the first response; let it finish so the next one may start.
    const upstream = openai.connections[connections];
    await upstream.waitFor('response.create');
    const done = (id: string) =>
      upstream.send({ type: 'response.done', response: { id, status: 'completed', output: [] } });
    done(upstream.responseIds[0]);

    // Transfer from A: C, the owner, redirects the call through REST at once.
    const before = rest.requests.length;
    const transfer = await fetch(`${svc('A').baseUrl}/api/calls/${callSid}/transfer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: '+15550003333' }),
    });
    expect(transfer.status).toBe(200);
    expect(await transfer.json()).toMatchObject({ callSid, status: 'transferred' });
    // A number that is not allowed is refused by whichever instance is asked.
    const refused = await fetch(`${svc('B').baseUrl}/api/calls/${callSid}/transfer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: '+15559999999' }),
    });
    expect(refused.status).toBe(400);
    const redirect = await rest.waitForRequest(
      (r) => r.path.includes(`/Calls/${callSid}.json`) && typeof r.form.Twiml === 'string',
      10_000,
    );
    expect(redirect.form.Twiml).toContain('<Dial>+15550003333</Dial>');
    expect(rest.requests.slice(before).filter((r) => r.path.includes(callSid))).toHaveLength(1);
  }, 60_000);

  it('refuses a call beyond CLUSTER_MAX_CALLS on every instance', async () => {
    // A third call's webhook answered while there was room: its stream comes too late.
    const late = newCallSid();
    const lateTwiml = await webhook('C', late);
    expect(lateTwiml.xml).toContain('<Stream');

    const one = await dial('A', 'A');
    const two = await dial('B', 'B');
    await eventually(
      () => listCalls('C'),
      (calls) => calls.length === 2,
      'two calls listed',
    );

    for (const instance of ['A', 'B', 'C']) {
      const { status, xml } = await webhook(instance, newCallSid());
      expect(status).toBe(200);
      expect(xml).not.toContain('<Stream');
      expect(xml).toContain('<Hangup/>');
    }
    const refused = await FakeTwilioCall.open(streamOn('C', lateTwiml.xml), {
      callSid: late,
    }).catch((error: Error) => error);
    if (refused instanceof FakeTwilioCall) {
      refused.start();
      // 1013 "try again later": refused for capacity, as for MAX_CONCURRENT_CALLS.
      expect(await refused.waitForClose(5000)).toBe(1013);
    } else {
      expect(refused.message).toMatch(/HTTP 503/);
    }
    expect((await listCalls('A')).map((c) => c.callSid).sort()).toEqual(
      [one.callSid, two.callSid].sort(),
    );

    await endCall(one.call);
    await endCall(two.call);
    await eventually(
      () => listCalls('C'),
      (calls) => calls.length === 0,
      'both calls gone',
    );
  }, 60_000);

  it('acts on no forged control message: no transfer off the allow-list, each one counted', async () => {
    const { callSid } = await dial('A', 'A');
    const channel = 'bridge:control:A';
    const forged = {
      type: 'control',
      id: randomUUID(),
      replyTo: 'C',
      callSid,
      command: { action: 'transfer', number: '+19005550123' },
    };
    const before = await busRejections('A');
    const requestsBefore = rest.requests.length;
    await withRedis(async (admin) => {
      // The JSON the bus took before it was signed; the envelope unsigned; signed with another
      // secret; signed right but too old.
      await admin.publish(channel, JSON.stringify(forged));
      await admin.publish(
        channel,
        JSON.stringify({ v: 1, ts: Date.now(), body: JSON.stringify(forged), mac: '0'.repeat(64) }),
      );
      await admin.publish(
        channel,
        sealed('not-the-cluster-secret-0123456789abcdef', channel, forged),
      );
      await admin.publish(channel, sealed(CLUSTER_SECRET, channel, forged, Date.now() - 60_000));
      // Signed right, by an instance that did not check: the owner checks the allow-list itself.
      await admin.publish(
        channel,
        sealed(CLUSTER_SECRET, channel, { ...forged, id: randomUUID() }),
      );
    });
    // A real transfer, asked on C: its request reaches A on the same channel after the forged
    // ones (Redis keeps a channel's order), and it is the only one A acts on.
    const transfer = await fetch(`${svc('C').baseUrl}/api/calls/${callSid}/transfer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: '+15550003333' }),
    });
    expect(transfer.status).toBe(200);
    await rest.waitForRequest(
      (r) => r.path.includes(`/Calls/${callSid}.json`) && typeof r.form.Twiml === 'string',
      10_000,
    );
    const updates = rest.requests.slice(requestsBefore).filter((r) => r.path.includes(callSid));
    expect(updates).toHaveLength(1);
    expect(updates[0].form.Twiml).toContain('<Dial>+15550003333</Dial>');
    expect(JSON.stringify(rest.requests)).not.toContain('+19005550123');
    // Dropped before the real one was read: each counted.
    expect(await busRejections('A')).toBe(before + 4);
    expect(svc('A').logs).toMatch(
      /cluster bus: dropped a message on bridge:control:A \(malformed\)/,
    );
  }, 60_000);

  it('never lists a call or a record written into Redis by someone else', async () => {
    const real = await dial('B', 'B');
    const fakeSid = newCallSid();
    const endedSid = newCallSid();
    const before = await busRejections('C');
    try {
      await withRedis(async (admin) => {
        await admin.zadd('bridge:leases', Date.now() + 60_000, fakeSid);
        await admin.hset(`bridge:call:${fakeSid}`, {
          callSid: fakeSid,
          instance: 'A',
          from: '+19005550123',
          startedAt: new Date().toISOString(),
          direction: 'inbound',
        });
        await admin.lpush(
          'bridge:recent',
          JSON.stringify({ event: 'call.ended', callSid: endedSid, instance: 'A' }),
        );
      });
      const listed = await listCalls('C');
      expect(listed.map((c) => c.callSid)).toEqual([real.callSid]);
      const consoleRows = await fetch(`${svc('C').baseUrl}/console/api/calls`, {
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      expect(JSON.stringify(await consoleRows.json())).not.toContain(fakeSid);
      const recent = await fetch(`${svc('C').baseUrl}/console/api/recent`, {
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      expect(JSON.stringify(await recent.json())).not.toContain(endedSid);
      expect(await busRejections('C')).toBeGreaterThan(before);
    } finally {
      // The forged lease would hold a CLUSTER_MAX_CALLS slot until it expires.
      await withRedis(async (admin) => {
        await admin.zrem('bridge:leases', fakeSid);
        await admin.del(`bridge:call:${fakeSid}`);
        await admin.lrem(
          'bridge:recent',
          0,
          JSON.stringify({ event: 'call.ended', callSid: endedSid, instance: 'A' }),
        );
      });
      await endCall(real.call);
    }
  }, 60_000);

  it('relays no unsigned call event to an event follower on another instance', async () => {
    const { call, callSid } = await dial('A', 'A');
    const sse = await SseReader.open(`${svc('C').baseUrl}/api/calls/${callSid}/events`);
    await withRedis(async (admin) => {
      // The stream is followed on A and relayed to C on a session's channel, which anyone with
      // Redis can find.
      const channel = await eventually(
        async () =>
          (await admin.pubsub('CHANNELS', 'bridge:stream-relay-session:*:down')) as string[],
        (channels) => channels.length === 1,
        "C's relay session",
      ).then((channels) => channels[0]);
      const before = await busRejections('C');
      const forged = (digit: string) => ({
        type: 'frames',
        seq: 2,
        frames: [
          `event: call.dtmf\ndata: ${JSON.stringify({ event: 'call.dtmf', callSid, digit })}\n\n`,
        ],
      });
      await admin.publish(channel, JSON.stringify(forged('9')));
      await admin.publish(
        channel,
        sealed('not-the-cluster-secret-0123456789abcdef', channel, forged('8')),
      );
      await eventually(
        () => busRejections('C'),
        (count) => count >= before + 2,
        'both forged events counted on C',
      );
    });
    // A real key press, after the forged ones on the same channel: it alone arrives.
    call.send({
      event: 'dtmf',
      sequenceNumber: '99',
      streamSid: call.streamSid,
      dtmf: { track: 'inbound_track', digit: '7' },
    });
    await waitUntil(() => sse.events('call.dtmf').length > 0, "A's call.dtmf on C", 10_000);
    expect(sse.events('call.dtmf').map((e) => e.digit)).toEqual(['7']);
    sse.close();
    await endCall(call);
  }, 60_000);

  it('frees the calls and slots of a SIGKILLed instance within 20 s', async () => {
    const first = await dial('B', 'B');
    const second = await dial('A', 'B');
    await eventually(
      () => listCalls('A'),
      (calls) => calls.length === 2,
      'both calls on B',
    );
    // Full: no room anywhere.
    expect((await webhook('A', newCallSid())).xml).not.toContain('<Stream');

    // A follower on C of a call of B: B will never send call.ended.
    const sse = await SseReader.open(`${svc('C').baseUrl}/api/calls/${first.callSid}/events`);
    await svc('B').kill('SIGKILL');
    const killedAt = Date.now();
    await eventually(
      () => listCalls('A'),
      (calls) => calls.length === 0,
      "B's calls to vanish",
      20_000,
    );
    expect(Date.now() - killedAt).toBeLessThan(20_000);
    // C's follower of B's call, relayed from B, ends once B is gone: its subscription (noticed
    // at C's next ping) or its pings.
    await waitUntil(() => sse.done, 'the event stream of a vanished call to end', 10_000);
    expect(sse.text).toMatch(
      /: the relay from instance B ended: (the peer left the session|nothing from the peer)/,
    );
    // Their sockets died with B.
    await first.call.waitForClose(5000);
    await second.call.waitForClose(5000);

    // The slots are free again: a new call is admitted.
    const next = await dial('C', 'A');
    expect((await listCalls('C')).map((c) => c.instance)).toEqual(['A']);
    await endCall(next.call);
    await start('B');
  }, 60_000);

  it('keeps a call going when Redis stops, admits new calls locally, and re-registers them when it is back', async () => {
    const live = await dial('A', 'A');
    await redis.stop();
    await eventually(
      async () => (await (await fetch(`${svc('A').baseUrl}/health`)).json()) as Record<string, any>,
      (health) => health.details?.redis?.status === 'down',
      '/health to report Redis down',
    );

    // The live call goes on: caller audio still reaches OpenAI, OpenAI's audio the caller.
    const appends = live.upstream.received.filter(
      (e) => e.type === 'input_audio_buffer.append',
    ).length;
    for (let i = 0; i < 5; i++) live.call.sendMedia(Buffer.alloc(160, 0xff));
    await waitUntil(
      () =>
        live.upstream.received.filter((e) => e.type === 'input_audio_buffer.append').length >
        appends,
      'caller audio reaching OpenAI during the outage',
    );
    expect(live.call.closeCode).toBeUndefined();

    // A new call is admitted under A's own limit.
    const local = await dial('A', 'A');
    expect(local.call.closeCode).toBeUndefined();
    // A lists its own calls, and says that is all it can list.
    const outage = await callList('A');
    expect(outage.partial).toBe(true);
    expect(outage.calls.map((c) => c.callSid).sort()).toEqual([live.callSid, local.callSid].sort());
    const metrics = await (await fetch(`${svc('A').baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^bridge_redis_up 0$/m);
    expect(metrics).toMatch(/^bridge_redis_disconnects_total [1-9]/m);

    // Redis comes back empty: A writes both calls again, C sees them with A as their owner.
    await redis.start();
    const listed = await eventually(
      () => listCalls('C').catch(() => []),
      (calls) => calls.length === 2,
      'the calls re-registered',
      20_000,
    );
    expect(listed.map((c) => [c.callSid, c.instance]).sort()).toEqual(
      [
        [live.callSid, 'A'],
        [local.callSid, 'A'],
      ].sort(),
    );
    expect((await callList('C')).partial).toBeUndefined();
    await endCall(live.call);
    await endCall(local.call);
    await eventually(
      () => listCalls('C'),
      (calls) => calls.length === 0,
      'both calls gone',
    );
  }, 90_000);

  it('drains A on SIGTERM: not ready at once, its call listed and finishing, new calls elsewhere', async () => {
    const { call, callSid } = await dial('A', 'A');
    await svc('A').kill('SIGTERM');
    await eventually(
      async () => (await fetch(`${svc('A').baseUrl}/health/ready`)).status,
      (status) => status === 503,
      'A not ready',
      5000,
    );
    // New calls land elsewhere: A refuses the webhook, B takes it.
    expect((await webhook('A', newCallSid())).status).toBe(503);
    const elsewhere = await dial('B', 'C');
    // A's call is still listed, with its owner, and still carries audio.
    expect((await listCalls('C')).find((c) => c.callSid === callSid)?.instance).toBe('A');
    call.sendMedia(Buffer.alloc(160, 0xff));
    expect(call.closeCode).toBeUndefined();

    // It ends normally; then A exits on its own, cleanly.
    await endCall(call);
    expect(await svc('A').waitForExit(15_000)).toBe(0);
    await eventually(
      () => listCalls('C'),
      (calls) => calls.map((c) => c.callSid).join() === elsewhere.callSid,
      'only the new call listed',
    );
    await endCall(elsewhere.call);
  }, 60_000);

  it('refuses to start when Redis cannot be reached: one line, exit 1, no password', async () => {
    // Port 1 on loopback: nothing listens there.
    const service = await ServiceProcess.start({
      ...env('D'),
      REDIS_URL: 'redis://:sup3r-secret@127.0.0.1:1/0',
    });
    expect(await service.waitForExit()).toBe(1);
    const lines = service.logs.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(
        /^REDIS_URL: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0 \(.*ECONNREFUSED/,
      ),
    ]);
    expect(service.logs).not.toContain('sup3r-secret');
  });

  it('refuses to start with REDIS_URL but no CLUSTER_SECRET, or a short one: one line, exit 1', async () => {
    const withoutSecret = env('E');
    delete withoutSecret.CLUSTER_SECRET;
    const missing = await ServiceProcess.start(withoutSecret);
    expect(await missing.waitForExit()).toBe(1);
    expect(missing.logs).toMatch(/^\s*- CLUSTER_SECRET: is required with REDIS_URL/m);

    const short = await ServiceProcess.start({ ...env('E'), CLUSTER_SECRET: 'short-hunter2' });
    expect(await short.waitForExit()).toBe(1);
    expect(short.logs).toMatch(/^\s*- CLUSTER_SECRET: must be at least 32 bytes long \(got 13\)/m);
    expect(short.logs).not.toContain('hunter2');
  });
});
