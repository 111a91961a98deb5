import { jest } from '@jest/globals';
import { createHmac, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { CallHandbackEvent } from '../src/events/call-events.js';
import { frames20ms, mulawTone } from './support/audio.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { BridgePair } from './support/bridge-pair.js';
import { CallEventLogModule, seenCallEvents } from './support/call-event-log.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { FakeTwilioCall } from './support/fake-twilio.js';
import { mediaAfter, modelSpeaks, pumpCaller } from './support/listen-call.js';
import { openListen, type ListenClient } from './support/listen-client.js';
import { TestRedis } from './support/redis-server.js';
import { sleep, waitUntil } from './support/wait.js';

// Listen-in on a cluster: a listen socket opened on B, which does not carry the call, reaches
// the call on A through the cluster's signed bus, takeover and operator audio included.

jest.setTimeout(30_000);

const API_TOKEN = 'listen-cluster-token-0123456789ab';
const CLUSTER_SECRET = 'listen-cluster-e2e-secret-5b2d4f6a8c0e7f3a';
const AUTH = { authorization: `Bearer ${API_TOKEN}` };

/** The bodies of the bus messages a plain subscriber got on `channel`. */
async function subscribed(url: string, channel: string) {
  const bodies: any[] = [];
  const client = new Redis(url);
  client.on('message', (_channel: string, raw: string) =>
    bodies.push(JSON.parse((JSON.parse(raw) as { body: string }).body)),
  );
  await client.subscribe(channel);
  return { bodies, client };
}

/** Polls an async `condition` until it holds, failing with `what` after `timeoutMs`. */
async function eventually(condition: () => Promise<boolean>, what: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * `ghost`, subscribed to an owner's stream-relay channel, answers each open request `opened`
 * after `delayMs` (through `admin`), then stays silent; what it hears on the sessions' `:up`
 * channels goes to `up`.
 */
function answerStreamOpens(ghost: Redis, admin: Redis, delayMs: number, up: unknown[] = []) {
  ghost.on('message', (channel: string, raw: string) => {
    const body = JSON.parse((JSON.parse(raw) as { body: string }).body) as { session: string };
    if (channel.endsWith(':up')) return void up.push(body);
    const down = `bridge:stream-relay-session:${body.session}:down`;
    void ghost
      .subscribe(`bridge:stream-relay-session:${body.session}:up`)
      .then(() => sleep(delayMs))
      .then(() => admin.publish(down, sealed(down, { type: 'opened', seq: 0 })))
      // The test may be over (its clients disconnected) by then.
      .catch(() => undefined);
  });
}

/** A console-view open request for `callSid`, as an asking instance sends it to `owner`. */
function viewOpen(owner: string, callSid: string) {
  const id = randomUUID();
  const open = { type: 'open', session: id, kind: 'console-view', callSid, from: 'x' };
  return { id, open, openChannel: `bridge:stream-relay:${owner}` };
}

/**
 * A bus message as docs/security.md specifies the envelope, built here by hand with node:crypto
 * (not with the bridge's code).
 */
function sealed(channel: string, body: unknown, secret = CLUSTER_SECRET): string {
  const text = JSON.stringify(body);
  const ts = Date.now();
  const mac = createHmac('sha256', secret)
    .update(`bridge-bus/v1\n${channel}\n${ts}\n${text}`)
    .digest('hex');
  return JSON.stringify({ v: 1, ts, body: text, mac });
}

describe('listen-in on a cluster', () => {
  let cluster: BridgePair;
  let redis: TestRedis;
  let openai: FakeRealtimeServer;
  let a: RunningBridge;
  let b: RunningBridge;
  let call: FakeTwilioCall;
  let session: FakeRealtimeConnection;
  let stopCaller: () => void = () => undefined;
  const listeners: ListenClient[] = [];

  const listenUrl = (bridge: RunningBridge, callSid = call.callSid) =>
    `${bridge.baseUrl.replace('http', 'ws')}/api/calls/${callSid}/listen`;

  async function listen(bridge: RunningBridge): Promise<ListenClient> {
    const { client, status, body } = await openListen(listenUrl(bridge), AUTH);
    if (!client) throw new Error(`listen refused: ${status} ${body}`);
    listeners.push(client);
    await client.waitFor('start');
    return client;
  }

  beforeAll(async () => {
    cluster = await BridgePair.start({
      name: 'listen',
      apiToken: API_TOKEN,
      clusterSecret: CLUSTER_SECRET,
      env: { TURN_DETECTION: 'server_vad' },
      // A's events are the ones the test reads (seenCallEvents is this process's).
      importsOfA: [CallEventLogModule],
    });
    ({ redis, openai, a, b } = cluster);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  beforeEach(async () => {
    seenCallEvents.length = 0;
    const index = openai.connections.length;
    call = await FakeTwilioCall.dial(a.baseUrl, { playInRealTime: true });
    session = await openai.connection(index);
    await session.waitFor('session.update');
    await eventually(async () => {
      const listed = await fetch(`${b.baseUrl}/api/calls`, { headers: AUTH });
      return (await listed.text()).includes(call.callSid);
    }, 'B to list the call');
  });

  afterEach(async () => {
    stopCaller();
    for (const listener of listeners.splice(0)) listener.close();
    call.hangUp();
    await call.waitForClose();
  });

  it('relays a socket opened on B: start, each caller frame as it arrives, the assistant as heard', async () => {
    const listener = await listen(b);
    expect(listener.received[0]).toEqual({
      event: 'start',
      callSid: call.callSid,
      encoding: 'audio/x-mulaw',
      sampleRate: 8000,
      tracks: ['caller', 'assistant'],
      line: 'assistant',
    });
    const frames = frames20ms(mulawTone(300, 400));
    const sentAt: number[] = [];
    for (const frame of frames) {
      sentAt.push(performance.now());
      call.sendMedia(frame);
      await sleep(20);
    }
    await waitUntil(() => listener.framesOf('media', 'caller').length === frames.length, 'frames');
    const got = listener.framesOf('media', 'caller');
    expect(listener.audio('caller').equals(Buffer.concat(frames))).toBe(true);
    expect(got.map((frame) => frame.timestamp as number)).toEqual(frames.map((_, i) => i * 20));
    // As it arrives, not held: the first reached the listener (through the relay) while the
    // caller was still sending (an ordering, not a timing bound a loaded machine breaks).
    const firstAt = listener.receivedAt[listener.received.indexOf(got[0])];
    expect(firstAt).toBeLessThan(sentAt[sentAt.length - 1]);

    // The assistant as the caller hears it: paced to playback, not the model's burst.
    stopCaller = pumpCaller(call);
    const spoken = modelSpeaks(session, 'resp_r', 'item_r', 3000);
    await sleep(600);
    const heard = listener.audio('assistant');
    expect(heard.length).toBeGreaterThan(0);
    expect(heard.length).toBeLessThan(1200 * 8);
    expect(heard.equals(spoken.subarray(0, heard.length))).toBe(true);
  });

  it('takes over from B: clear at the caller on A, the operator byte for byte, handback’s system message', async () => {
    const [holder, onA] = [await listen(b), await listen(a)];
    stopCaller = pumpCaller(call);
    modelSpeaks(session, 'resp_t', 'item_t', 3000);
    await call.waitFor('media');
    await sleep(300);
    const asked = performance.now();
    holder.send({ event: 'takeover' });
    await call.waitFor('clear');
    expect(performance.now() - asked).toBeLessThan(300);
    await session.waitFor('response.cancel', (event) => event.response_id === 'resp_t');
    for (const listener of [holder, onA]) {
      await listener.waitFor('takeover');
      expect(listener.framesOf('takeover')).toEqual([{ event: 'takeover', ok: true }]);
    }
    expect(seenCallEvents).toContainEqual(
      expect.objectContaining({ event: 'call.takeover', callSid: call.callSid, operator: 'api' }),
    );

    await sleep(100);
    const before = call.received.length;
    // Another socket's audio is ignored; the holder's, relayed from B, reaches the caller.
    onA.send({ event: 'media', payload: mulawTone(1000, 20).toString('base64') });
    const voice = frames20ms(mulawTone(850, 500));
    for (const frame of voice) {
      holder.send({ event: 'media', payload: frame.toString('base64') });
      await sleep(20);
    }
    await waitUntil(() => mediaAfter(call, before).length >= voice.length, 'operator frames');
    await sleep(200);
    const out = mediaAfter(call, before);
    const bytes = Buffer.concat(out.map((f) => Buffer.from(f.media.payload as string, 'base64')));
    expect(bytes.equals(Buffer.concat(voice))).toBe(true);

    holder.send({ event: 'handback', note: 'Relayed from B: refund approved.' });
    for (const listener of [holder, onA]) await listener.waitFor('handback');
    const message = await session.waitFor(
      'conversation.item.create',
      (event) => (event.item as { role?: string }).role === 'system',
    );
    const text = JSON.stringify(message.item);
    expect(text).toMatch(/human operator/);
    expect(text).toContain('Relayed from B: refund approved.');
    const handback = seenCallEvents.find((e) => e.event === 'call.handback') as CallHandbackEvent;
    expect(handback).toMatchObject({ operator: 'api', note: expect.stringContaining('Relayed') });
  });

  it('sends stop and closes normally on B when the call ends on A', async () => {
    const listener = await listen(b);
    call.stop();
    await listener.waitFor('stop');
    expect(await listener.waitForClose()).toBe(1000);
    expect(listener.received.at(-1)).toEqual({ event: 'stop' });
  });

  it('hands back on A when the holder’s socket on B closes', async () => {
    const [holder, onA] = [await listen(b), await listen(a)];
    holder.send({ event: 'takeover' });
    await onA.waitFor('takeover');
    holder.close();
    await onA.waitFor('handback');
    await session.waitFor(
      'conversation.item.create',
      (event) => (event.item as { role?: string }).role === 'system',
    );
    onA.send({ event: 'takeover' });
    await waitUntil(() => onA.framesOf('takeover').length === 2, 'the second takeover');
    expect(onA.framesOf('takeover')[1]).toEqual({ event: 'takeover', ok: true });
  });

  it('counts relayed listeners against MAX_LISTENERS_PER_CALL (5) on the owner', async () => {
    for (let i = 0; i < 3; i++) await listen(a);
    for (let i = 0; i < 2; i++) await listen(b);
    const sixth = await openListen(listenUrl(b), AUTH);
    expect(sixth.status).toBe(429);
    listeners.pop()!.close();
    await eventually(
      async () => {
        const again = await openListen(listenUrl(b), AUTH);
        if (again.client) listeners.push(again.client);
        return again.client !== undefined;
      },
      'room for one more',
      3000,
    );
  });

  it('opens no session for a forged or replayed open request; takes no forged frame; ends a session whose asker went silent', async () => {
    const onA = await listen(a);
    const id = randomUUID();
    const down = await subscribed(redis.url, `bridge:listen-session:${id}:down`);
    const admin = new Redis(redis.url);
    try {
      const open = { type: 'open', session: id, callSid: call.callSid, operator: 'api', from: 'x' };
      const openChannel = 'bridge:listen:listen-a';
      await admin.publish(
        openChannel,
        sealed(openChannel, open, 'not-the-cluster-secret-0123456789'),
      );
      await sleep(300);
      expect(down.bodies).toEqual([]);
      const genuine = sealed(openChannel, open);
      await admin.publish(openChannel, genuine);
      await waitUntil(() => down.bodies.length >= 2, 'opened, then start');
      expect(down.bodies[0]).toEqual({ type: 'opened', seq: 0 });
      expect(JSON.parse(down.bodies[1].frames[0] as string)).toMatchObject({ event: 'start' });
      await admin.publish(openChannel, genuine);
      await sleep(300);
      expect(down.bodies.filter((b) => b.type === 'opened' || b.type === 'refused')).toHaveLength(
        1,
      );

      const up = `bridge:listen-session:${id}:up`;
      const takeover = { type: 'frames', seq: 0, frames: ['{"event":"takeover"}'] };
      await admin.publish(up, sealed(up, takeover, 'not-the-cluster-secret-0123456789'));
      await sleep(300);
      expect(onA.framesOf('takeover')).toEqual([]);
      await admin.publish(up, sealed(up, takeover));
      await onA.waitFor('takeover');
      // The acknowledgement went to the relayed listener too, as to every listener of the call.
      await waitUntil(
        () =>
          down.bodies.some(
            (b) => b.type === 'frames' && b.frames.includes('{"event":"takeover","ok":true}'),
          ),
        'the relayed acknowledgement',
      );
      // The asking side says nothing more: after LISTEN_RELAY_SILENCE_MS (6 s) the line is back.
      await onA.waitFor('handback', () => true, 9000);
    } finally {
      admin.disconnect();
      down.client.disconnect();
    }
  }, 20_000);

  it('relays the console’s socket on B, and A’s takeover event names B’s console session', async () => {
    const login = await fetch(`${b.baseUrl}/console/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: API_TOKEN }),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    const url = `${b.baseUrl.replace('http', 'ws')}/console/api/calls/${call.callSid}/listen`;
    const { client } = await openListen(url, { cookie, origin: b.baseUrl });
    expect(client).toBeDefined();
    listeners.push(client!);
    await client!.waitFor('start');
    client!.send({ event: 'takeover' });
    await client!.waitFor('takeover');
    await waitUntil(() => seenCallEvents.some((e) => e.event === 'call.takeover'), 'call.takeover');
    expect(seenCallEvents.find((e) => e.event === 'call.takeover')).toMatchObject({
      operator: expect.stringMatching(/^console:[A-Za-z0-9_-]{12}$/),
    });
  });

  it('checks credentials on B before it asks the owner anything', async () => {
    const wrong = await openListen(listenUrl(b), { authorization: 'Bearer wrong' });
    expect(wrong.status).toBe(401);
  });

  it('opens the console’s view of the call on B: the owner’s snapshot, entries and figures, then its end', async () => {
    const said = (item: string, transcript: string) =>
      session.send({
        type: 'conversation.item.input_audio_transcription.completed',
        item_id: item,
        content_index: 0,
        transcript,
      });
    said('item_v1', 'Before the view opened.');
    const view = `${b.baseUrl}/console/api/calls/${call.callSid}`;
    await eventually(
      async () => (await (await fetch(view, { headers: AUTH })).text()).includes('Before the view'),
      "the caller's turn in B's detail",
    );
    const detail = (await (await fetch(view, { headers: AUTH })).json()) as any;
    expect(detail.call).toMatchObject({ callSid: call.callSid, from: '+15550001111' });
    expect(detail.stats).toMatchObject({ state: expect.any(String) });
    expect(detail.entries).toContainEqual(
      expect.objectContaining({ kind: 'turn', role: 'caller' }),
    );
    expect((await fetch(view)).status).toBe(401);
    const unknown = await fetch(`${b.baseUrl}/console/api/calls/CA${'9'.repeat(32)}`, {
      headers: AUTH,
    });
    expect(unknown.status).toBe(404);

    const controller = new AbortController();
    const live = await fetch(`${view}/live`, { headers: AUTH, signal: controller.signal });
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toContain('text/event-stream');
    let text = '';
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of live.body as unknown as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
      }
    })();
    const events = (name: string): any[] =>
      [...text.matchAll(new RegExp(`event: ${name}\\ndata: (.*)\\n`, 'g'))].map((m): unknown =>
        JSON.parse(m[1]),
      );
    await waitUntil(() => events('snapshot').length === 1, 'the snapshot on B');
    expect(events('snapshot')[0].call.callSid).toBe(call.callSid);
    said('item_v2', 'While B was watching.');
    await waitUntil(() => events('entry').length > 0, "A's entry on B");
    expect(events('entry')[0]).toMatchObject({ kind: 'turn', text: 'While B was watching.' });
    await waitUntil(() => events('stats').length > 0, "A's figures on B");
    call.hangUp();
    await waitUntil(() => events('ended').length === 1, "the call's end on B", 10_000);
    expect(events('ended')[0]).toMatchObject({ callSid: call.callSid });
    await reading;
    controller.abort();
  });

  it("follows A's call events from B: the events so far, then as they happen, then its end", async () => {
    session.send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_e1',
      content_index: 0,
      transcript: 'Said before anyone followed.',
    });
    await waitUntil(
      () => seenCallEvents.some((e) => e.event === 'call.transcript'),
      "A's transcript event",
    );
    const controller = new AbortController();
    const events = await fetch(`${b.baseUrl}/api/calls/${call.callSid}/events`, {
      headers: AUTH,
      signal: controller.signal,
    });
    expect(events.status).toBe(200);
    let text = '';
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of events.body as unknown as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
      }
    })();
    await waitUntil(() => text.includes('Said before anyone followed.'), 'the backlog on B');
    expect(text).toMatch(/^retry: \d+\n\n: following call events\n\n/);
    expect(text).toContain('event: call.started\n');
    session.send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_e2',
      content_index: 0,
      transcript: 'Said while B followed.',
    });
    await waitUntil(() => text.includes('Said while B followed.'), 'a live event on B');
    // Each once, in order.
    expect(text.split('Said before anyone followed.')).toHaveLength(2);
    expect(text.indexOf('Said before')).toBeLessThan(text.indexOf('Said while'));
    call.hangUp();
    await waitUntil(() => text.includes('event: call.ended\n'), "the call's end on B", 10_000);
    await reading;
    controller.abort();
  });

  it('tells the asking side when the owner shuts down under a relayed view', async () => {
    const c = await startBridge({
      API_TOKEN,
      INSTANCE_ID: 'listen-c',
      REDIS_URL: redis.url,
      CLUSTER_SECRET,
      OPENAI_REALTIME_URL: openai.url,
      SHUTDOWN_DRAIN_S: '0',
    });
    const index = openai.connections.length;
    const onC = await FakeTwilioCall.dial(c.baseUrl);
    await (await openai.connection(index)).waitFor('session.update');
    const { id, open, openChannel } = viewOpen('listen-c', onC.callSid);
    const down = await subscribed(redis.url, `bridge:stream-relay-session:${id}:down`);
    const admin = new Redis(redis.url);
    try {
      // The asking side's channel, as an asker subscribes to it before it asks.
      await admin.subscribe(`bridge:stream-relay-session:${id}:up`);
      const publisher = new Redis(redis.url);
      await publisher.publish(openChannel, sealed(openChannel, open));
      publisher.disconnect();
      await waitUntil(() => down.bodies.length >= 2, 'opened, then the snapshot');
      await c.close();
      await waitUntil(
        () => down.bodies.some((body) => body.type === 'close'),
        "the owner's close",
        3000,
      );
      // Its call ended with it (SHUTDOWN_DRAIN_S=0): the view's end, then the stream's.
      expect(down.bodies.map((body) => (body as { type: string }).type)).toContain('frames');
      expect(down.bodies.at(-1)).toMatchObject({ type: 'close' });
    } finally {
      admin.disconnect();
      down.client.disconnect();
      onC.hangUp();
    }
  });

  it('opens no call view for a forged or replayed open request', async () => {
    const { id, open, openChannel } = viewOpen('listen-a', call.callSid);
    const down = await subscribed(redis.url, `bridge:stream-relay-session:${id}:down`);
    const admin = new Redis(redis.url);
    try {
      await admin.publish(
        openChannel,
        sealed(openChannel, open, 'not-the-cluster-secret-0123456789'),
      );
      await sleep(300);
      expect(down.bodies).toEqual([]);
      const genuine = sealed(openChannel, open);
      await admin.publish(openChannel, genuine);
      await waitUntil(() => down.bodies.length >= 2, 'opened, then the snapshot');
      expect(down.bodies[0]).toEqual({ type: 'opened', seq: 0 });
      expect(down.bodies[1].frames[0]).toMatch(/^event: snapshot\ndata: /);
      await admin.publish(openChannel, genuine);
      await sleep(300);
      expect(down.bodies.filter((b) => b.type === 'opened' || b.type === 'refused')).toHaveLength(
        1,
      );
    } finally {
      admin.disconnect();
      down.client.disconnect();
    }
  });

  it('ends the owner’s follower when the view on B closes', async () => {
    const view = `${b.baseUrl}/console/api/calls/${call.callSid}/live`;
    const opened: AbortController[] = [];
    const open = async () => {
      const controller = new AbortController();
      opened.push(controller);
      return fetch(view, { headers: AUTH, signal: controller.signal });
    };
    // A's console holds 32 streams (MAX_LIVE_FOLLOWERS): B's views count among them.
    const first = await Promise.all(Array.from({ length: 32 }, open));
    expect(first.map((r) => r.status)).toEqual(Array(32).fill(200));
    expect((await open()).status).toBe(503);
    for (const controller of opened.splice(0)) controller.abort();
    // Freed on A once B's streams closed and B told it.
    await eventually(async () => {
      const again = await open();
      return again.status === 200;
    }, 'room on A again');
    for (const controller of opened.splice(0)) controller.abort();
  });
});

describe('listen-in on a cluster, when the owner does not answer', () => {
  let redis: TestRedis;
  let b: RunningBridge;
  let admin: Redis;
  const ghostSid = `CA${'0123456789abcdef'.repeat(2)}`;

  beforeAll(async () => {
    redis = await TestRedis.start();
    b = await startBridge({
      API_TOKEN,
      INSTANCE_ID: 'listen-b',
      REDIS_URL: redis.url,
      CLUSTER_SECRET,
      MAX_SSE_FOLLOWERS_PER_CALL: '2',
    });
    admin = new Redis(redis.url);
    // A live media call of instance `ghost`, as ghost would list it (signed, fresh).
    const key = `bridge:call:${ghostSid}`;
    const entry = {
      callSid: ghostSid,
      instance: 'ghost',
      startedAt: new Date().toISOString(),
      direction: 'inbound',
      transport: 'media',
    };
    await admin.zadd('bridge:leases', Date.now() + 60_000, ghostSid);
    await admin.hset(key, { record: sealed(key, entry) });
  });

  afterAll(async () => {
    admin?.disconnect();
    await b?.close();
    await redis?.destroy();
  });

  const url = () => `${b.baseUrl.replace('http', 'ws')}/api/calls/${ghostSid}/listen`;

  it('answers 503 naming the owner when nothing listens on its channel', async () => {
    const refused = await openListen(url(), AUTH);
    expect(refused.status).toBe(503);
    expect(refused.body).toContain('ghost');
  });

  it('closes the socket on B (1011) when the owner goes silent', async () => {
    const ghost = new Redis(redis.url);
    const admin = new Redis(redis.url);
    try {
      // An owner that opens the session, sends `start`, then hangs (still subscribed, silent).
      ghost.on('message', (channel: string, raw: string) => {
        if (channel !== 'bridge:listen:ghost') return; // B's pings on `:up` go unanswered
        const open = JSON.parse((JSON.parse(raw) as { body: string }).body) as { session: string };
        const down = `bridge:listen-session:${open.session}:down`;
        void ghost
          .subscribe(`bridge:listen-session:${open.session}:up`)
          .then(() => admin.publish(down, sealed(down, { type: 'opened', seq: 0 })))
          .then(() => {
            const start = JSON.stringify({ event: 'start', callSid: ghostSid });
            return admin.publish(down, sealed(down, { type: 'frames', seq: 1, frames: [start] }));
          });
      });
      await ghost.subscribe('bridge:listen:ghost');
      const { client } = await openListen(url(), AUTH);
      expect(client).toBeDefined();
      await client!.waitFor('start');
      expect(await client!.waitForClose(9000)).toBe(1011);
    } finally {
      ghost.disconnect();
      admin.disconnect();
    }
  }, 20_000);

  /** `n` event streams of the ghost's call opened on B at once; their statuses, and a closer. */
  async function eventStreamsAtOnce(n: number) {
    const controllers = Array.from({ length: n }, () => new AbortController());
    const responses = await Promise.all(
      controllers.map((controller) =>
        fetch(`${b.baseUrl}/api/calls/${ghostSid}/events`, {
          headers: AUTH,
          signal: controller.signal,
        }),
      ),
    );
    return {
      statuses: responses.map((response) => response.status).sort(),
      close: () => controllers.forEach((controller) => controller.abort()),
    };
  }

  it('holds B to its follower bounds for streams opened at once, the owner answering or not', async () => {
    const ghost = new Redis(redis.url);
    const admin = new Redis(redis.url);
    try {
      // Silent: each open waits for the owner's answer (2 s), then follows the bus.
      await ghost.subscribe('bridge:stream-relay:ghost');
      const unanswered = await eventStreamsAtOnce(5);
      unanswered.close();
      expect(unanswered.statuses).toEqual([200, 200, 429, 429, 429]);
      await sleep(200);

      // Answering after 300 ms: every open is relayed, but B holds no more than its bound.
      answerStreamOpens(ghost, admin, 300);
      const answered = await eventStreamsAtOnce(5);
      answered.close();
      expect(answered.statuses).toEqual([200, 200, 429, 429, 429]);
    } finally {
      ghost.disconnect();
      admin.disconnect();
    }
  }, 20_000);

  it('ends a console view on B whose session was logged out while the owner answered', async () => {
    const ghost = new Redis(redis.url);
    const admin = new Redis(redis.url);
    const page = new AbortController();
    try {
      answerStreamOpens(ghost, admin, 800);
      await ghost.subscribe('bridge:stream-relay:ghost');
      const login = await fetch(`${b.baseUrl}/console/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: API_TOKEN }),
      });
      const cookie = login.headers.get('set-cookie')!.split(';')[0];
      const opening = fetch(`${b.baseUrl}/console/api/calls/${ghostSid}/live`, {
        headers: { cookie },
        signal: page.signal,
      });
      await sleep(300);
      const out = await fetch(`${b.baseUrl}/console/logout`, {
        method: 'POST',
        headers: { cookie },
      });
      expect(out.status).toBe(204);
      expect((await opening).status).toBe(401);
    } finally {
      page.abort();
      ghost.disconnect();
      admin.disconnect();
    }
  });

  it('tells the owner when the asking instance shuts down under a relayed stream', async () => {
    const asker = await startBridge({
      API_TOKEN,
      INSTANCE_ID: 'listen-c',
      REDIS_URL: redis.url,
      CLUSTER_SECRET,
    });
    const ghost = new Redis(redis.url);
    const admin = new Redis(redis.url);
    const up: Array<{ type: string }> = [];
    const client = new AbortController();
    try {
      answerStreamOpens(ghost, admin, 0, up);
      await ghost.subscribe('bridge:stream-relay:ghost');
      const events = await fetch(`${asker.baseUrl}/api/calls/${ghostSid}/events`, {
        headers: AUTH,
        signal: client.signal,
      });
      expect(events.status).toBe(200);
      await asker.close();
      await waitUntil(() => up.some((message) => message.type === 'close'), "the asker's close");
    } finally {
      client.abort();
      ghost.disconnect();
      admin.disconnect();
    }
  });

  it('answers 504 within the upgrade deadline when the owner is there but silent', async () => {
    const silent = new Redis(redis.url);
    try {
      await silent.subscribe('bridge:listen:ghost');
      const asked = performance.now();
      const refused = await openListen(url(), AUTH);
      expect(refused.status).toBe(504);
      expect(refused.body).toMatch(/ghost.*did not answer within 800 ms/);
      expect(performance.now() - asked).toBeLessThan(1000);
    } finally {
      silent.disconnect();
    }
  });
});
