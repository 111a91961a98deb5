import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { RealtimeConnection, type RealtimeCloseInfo } from './realtime-connection.js';

const PING_MS = 100;

/** A Realtime endpoint that accepts the upgrade and then says nothing at all. */
async function silentServer(autoPong: boolean) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong });
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/realtime`;
  return { server, url };
}

function connect(url: string, pingIntervalMs = PING_MS) {
  let opened = false;
  let closed: RealtimeCloseInfo | undefined;
  const connection = new RealtimeConnection(
    { url, headers: {}, connectTimeoutMs: 2000, pingIntervalMs },
    {
      onOpen: () => (opened = true),
      onEvent: () => undefined,
      onInvalidEvent: () => undefined,
      onClose: (info) => (closed = info),
    },
  );
  return { connection, opened: () => opened, closed: () => closed };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
}

describe('RealtimeConnection liveness', () => {
  let server: WebSocketServer | undefined;
  afterEach(async () => {
    for (const client of server?.clients ?? []) client.terminate();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('closes a socket that answers no ping (a stalled path) as a dropped one (1006)', async () => {
    const silent = await silentServer(false);
    server = silent.server;
    const link = connect(silent.url);
    await sleep(PING_MS * 4);
    expect(link.opened()).toBe(true);
    expect(link.closed()).toMatchObject({
      wasOpen: true,
      byUs: false,
      code: 1006,
      error: `no answer to a ping within ${PING_MS} ms`,
    });
  });

  it('keeps a socket open that answers its pings, however long OpenAI has nothing to say', async () => {
    const quiet = await silentServer(true);
    server = quiet.server;
    // A longer interval here: a pong must cross the event loop twice within one, and a loaded
    // machine can stall a test process for ~100 ms.
    const link = connect(quiet.url, PING_MS * 4);
    await sleep(PING_MS * 4 * 5);
    expect(link.opened()).toBe(true);
    expect(link.closed()).toBeUndefined();
    link.connection.close();
    await sleep(50);
    expect(link.closed()).toMatchObject({ byUs: true });
  });
});

describe('RealtimeConnection waiting for its credential', () => {
  function waitForToken(credentialProblem?: () => string | undefined) {
    let closed: RealtimeCloseInfo | undefined;
    new RealtimeConnection(
      {
        url: 'ws://127.0.0.1:9/v1/realtime',
        // An Entra ID token that does not come within the attempt's time.
        headers: new Promise<Record<string, string>>(() => undefined),
        connectTimeoutMs: 50,
        credentialProblem,
      },
      {
        onOpen: () => undefined,
        onEvent: () => undefined,
        onInvalidEvent: () => undefined,
        onClose: (info) => (closed = info),
      },
    );
    return () => closed;
  }

  it('says it was waiting for a token, not for an answer to the upgrade', async () => {
    const closed = waitForToken(() => undefined);
    await sleep(150);
    expect(closed()).toMatchObject({
      wasOpen: false,
      code: 1006,
      error: 'waiting for a Microsoft Entra ID token: none within 50 ms',
      credentialError: undefined,
    });
  });

  it("carries the credential's last error, as a credential failure", async () => {
    const closed = waitForToken(() => 'ManagedIdentityCredential: HTTP 500');
    await sleep(150);
    expect(closed()?.credentialError).toBe(
      'none within 50 ms; last error: ManagedIdentityCredential: HTTP 500',
    );
  });
});

describe('RealtimeConnection under backpressure', () => {
  let server: WebSocketServer | undefined;
  afterEach(async () => {
    for (const client of server?.clients ?? []) client.terminate();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('sends a client event behind the caller audio it holds back, never ahead of it', async () => {
    const paused = await silentServer(true);
    server = paused.server;
    const received: string[] = [];
    const peer = new Promise<WebSocket>((resolve) =>
      paused.server.once('connection', (socket) => {
        // OpenAI not reading: the client's writes pile up in the kernel, then in ws, then in the
        // connection's backlog.
        socket.pause();
        socket.on('message', (data: Buffer) => received.push(data.toString().slice(0, 40)));
        resolve(socket);
      }),
    );
    const link = connect(paused.url, 60_000);
    const socket = await peer;
    const audio = (n: number) =>
      JSON.stringify({ type: 'append', n, audio: 'x'.repeat(256 * 1024) });
    let n = 0;
    while (link.connection.droppedAudioFrames === 0 && n < 400) {
      link.connection.appendAudio(audio(n++));
      if (n % 10 === 0) await sleep(5);
    }
    expect(link.connection.droppedAudioFrames).toBeGreaterThan(0);
    link.connection.sendRaw(JSON.stringify({ type: 'conversation.item.create' }));
    // A full backlog's worth of audio after it, and more: audio goes, the event stays.
    const last = n + 60;
    while (n < last) link.connection.appendAudio(audio(n++));
    socket.resume();
    await waitFor(() => received.some((text) => text.includes(`"n":${last - 1},`)));
    const at = received.findIndex((text) => text.includes('conversation.item.create'));
    expect(at).toBeGreaterThan(0);
    const order = received.map((text) => Number(/"n":(\d+)/.exec(text)?.[1] ?? -1));
    // Everything held back before the event went out before it, everything after it after it.
    expect(Math.max(...order.slice(0, at))).toBeLessThan(last - 60);
    expect(Math.min(...order.slice(at + 1))).toBeGreaterThanOrEqual(last - 60);
    link.connection.close();
  }, 30_000);
});
