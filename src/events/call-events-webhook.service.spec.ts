import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CallControlConfig } from '../config/config.namespaces.js';
import { Secret } from '../config/secret.js';
import type { LostCall } from '../history/history-record.js';
import { HistoryEvent } from '../history/history.constants.js';
import { CallEventBus } from './call-event-bus.js';
import { CallEventsWebhookService } from './call-events-webhook.service.js';
import type { CallStartedEvent } from './call-events.js';

const SECRET = 'whsec-b7e1c02f9a4d48e3a51c6f0d2e8b9a17';

interface Received {
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

async function receiver(answer: string) {
  const received: Received[] = [];
  let connections = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(answer);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    server,
    url,
    received,
    connections: () => connections,
  };
}

function started(callSid: string): CallStartedEvent {
  return {
    event: 'call.started',
    callSid,
    streamSid: `MZ${callSid.slice(2)}`,
    at: new Date().toISOString(),
    customParameters: {},
  };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('CallEventsWebhookService', () => {
  let hook: Awaited<ReturnType<typeof receiver>>;
  let service: CallEventsWebhookService;
  let bus: CallEventBus;

  async function start(answer: string): Promise<void> {
    hook = await receiver(answer);
    const cfg = {
      eventsWebhookUrl: hook.url,
      eventsWebhookSecret: new Secret(SECRET),
    } as CallControlConfig;
    bus = new CallEventBus();
    service = new CallEventsWebhookService(cfg, bus);
  }

  afterEach(async () => {
    hook.server.closeAllConnections();
    await new Promise((resolve) => hook.server.close(resolve));
  });

  it('signs each event over its timestamp and body', async () => {
    await start('ok');
    service.deliver(started('CA00000000000000000000000000000001'));
    await until(() => hook.received.length === 1);
    const { body, headers } = hook.received[0];
    const expected = createHmac('sha256', SECRET)
      .update(`${String(headers['x-bridge-timestamp'])}.${body}`)
      .digest('hex');
    expect(headers['x-bridge-signature']).toBe(`sha256=${expected}`);
    expect(JSON.parse(body)).toMatchObject({ event: 'call.started' });
  });

  async function deliverOneByOne(count: number): Promise<void> {
    for (let i = 1; i <= count; i++) {
      service.deliver(started(`CA0000000000000000000000000000000${i}`));
      await until(() => hook.received.length === i);
      // Let the client finish with the answer before the next delivery picks a connection.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('reads the answer to its end, so one kept-alive connection carries delivery after delivery', async () => {
    // Longer than fetch buffers by itself: left unread, it would hold its connection.
    await start(JSON.stringify({ received: true, note: 'x'.repeat(200_000) }));
    await deliverOneByOne(5);
    expect(hook.connections()).toBe(1);
  });

  it('goes on delivering after answers past its bound, on a new connection each time', async () => {
    // The answer is cut off (the request aborted); whether the server sees its write cut
    // depends on the Node version's fetch, so only what the bridge does is checked here.
    await start('x'.repeat(16 * 1024 * 1024));
    await deliverOneByOne(3);
    expect(hook.received).toHaveLength(3);
    expect(hook.connections()).toBeGreaterThanOrEqual(3);
  });

  it("delivers a lost call's call.ended, outcome lost, once the history has found it", async () => {
    await start('ok');
    const lost: LostCall = {
      callSid: 'CA00000000000000000000000000000007',
      owner: 'bridge-a/0a0a0a0a',
      streamSid: 'MZ00000000000000000000000000000007',
      transport: 'media',
      direction: 'outbound',
      from: '+15550001111',
      to: '+15550002222',
      profile: null,
      startedAt: '2026-12-06T10:00:00.000Z',
      seenAt: '2026-12-06T10:00:12.000Z',
      transcript: [
        { role: 'caller', text: 'Is the Lyon branch open?', atMs: 2500 },
        { role: 'assistant', text: 'It is, until six', atMs: 4000, interrupted: true },
      ],
      predecessor: true,
    };
    bus.emit(HistoryEvent.CallLost, lost);
    await until(() => hook.received.length === 1);
    const event = JSON.parse(hook.received[0].body) as Record<string, unknown>;
    expect(event).toEqual({
      event: 'call.ended',
      callSid: lost.callSid,
      streamSid: lost.streamSid,
      transport: 'media',
      at: expect.any(String),
      direction: 'outbound',
      from: '+15550001111',
      to: '+15550002222',
      startedAt: lost.startedAt,
      endedAt: lost.seenAt,
      reason: expect.stringContaining('bridge-a stopped without ending the call'),
      outcome: 'lost',
      durationS: 12,
      latency: {},
      turns: { caller: 1, assistant: 1 },
      turnsOmitted: 0,
      transcript: [
        { role: 'caller', text: 'Is the Lyon branch open?', at: '2026-12-06T10:00:02.500Z' },
        {
          role: 'assistant',
          text: 'It is, until six',
          at: '2026-12-06T10:00:04.000Z',
          interrupted: true,
        },
      ],
      tools: [],
      interruptions: 1,
      takeovers: [],
      reconnects: 0,
      usage: expect.objectContaining({ totalTokens: 0 }),
      frames: { in: 0, out: 0, dropped: 0 },
    });
    expect(Date.parse(event.at as string)).toBeGreaterThan(Date.parse(lost.seenAt));
  });
});
