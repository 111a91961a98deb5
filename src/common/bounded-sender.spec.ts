import { jest } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { BoundedSender, type TextSocket } from './bounded-sender.js';

class SlowSocket implements TextSocket {
  readonly sent: string[] = [];
  bufferedAmount = 0;
  readyState = 1;
  send(data: string): void {
    this.sent.push(data);
    this.bufferedAmount += data.length;
  }
}

describe('BoundedSender', () => {
  afterEach(() => jest.useRealTimers());

  it('sends straight through while the socket keeps up', () => {
    const socket = new SlowSocket();
    const sender = new BoundedSender(socket, 1000, 3, 'server');
    sender.send('a');
    sender.send('b');
    expect(socket.sent).toEqual(['a', 'b']);
    sender.dispose();
  });

  it('holds at most maxBacklog frames for a stalled socket, dropping the oldest', () => {
    const socket = new SlowSocket();
    socket.bufferedAmount = 5000;
    const sender = new BoundedSender(socket, 1000, 3, 'server');
    for (const frame of ['1', '2', '3', '4', '5']) sender.send(frame);
    expect(socket.sent).toEqual([]);
    expect(sender.backlogLength).toBe(3);
    expect(sender.dropped).toBe(2);
    sender.dispose();
  });

  it('delivers the backlog in order once the socket drains', () => {
    jest.useFakeTimers();
    const socket = new SlowSocket();
    socket.bufferedAmount = 5000;
    const sender = new BoundedSender(socket, 1000, 3, 'server');
    for (const frame of ['1', '2', '3', '4']) sender.send(frame);
    socket.bufferedAmount = 0;
    jest.advanceTimersByTime(20);
    expect(socket.sent).toEqual(['2', '3', '4']);
    sender.send('5');
    expect(socket.sent).toEqual(['2', '3', '4', '5']);
    sender.dispose();
  });

  it('drops the oldest audio pair before any lone frame (a mark the tracker waits for)', () => {
    jest.useFakeTimers();
    const socket = new SlowSocket();
    socket.bufferedAmount = 5000;
    const sender = new BoundedSender(socket, 1000, 4, 'server');
    sender.send('final-mark');
    sender.sendPair('media1', 'mark1');
    sender.sendPair('media2', 'mark2');
    expect(sender.backlogLength).toBe(3);
    expect(sender.dropped).toBe(2);
    socket.bufferedAmount = 0;
    sender.send('media3');
    jest.advanceTimersByTime(20);
    expect(socket.sent).toEqual(['final-mark', 'media2', 'mark2', 'media3']);
    sender.dispose();
  });
});

/** A real ws connection on loopback: the server's socket, the client's, and what each received. */
async function connectedPair(perMessageDeflate = false) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate });
  await new Promise((resolve) => server.once('listening', resolve));
  const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, {
    perMessageDeflate,
  });
  await new Promise((resolve) => client.once('open', resolve));
  const serverSide = await accepted;
  const toClient: string[] = [];
  const toServer: string[] = [];
  client.on('message', (data: Buffer) => toClient.push(data.toString()));
  serverSide.on('message', (data: Buffer) => toServer.push(data.toString()));
  const close = async () => {
    client.terminate();
    await new Promise((resolve) => server.close(resolve));
  };
  return { serverSide, client, toClient, toServer, close };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
}

/** Counts the writes to the TCP socket under a ws WebSocket. */
function countWrites(socket: WebSocket): () => number {
  const raw = (socket as unknown as { _socket: { write: (...args: unknown[]) => boolean } })
    ._socket;
  const write = raw.write.bind(raw);
  let writes = 0;
  raw.write = (...args: unknown[]) => {
    writes++;
    return write(...args);
  };
  return () => writes;
}

describe('BoundedSender on a real ws connection', () => {
  it('sends a pair as one write on the TCP socket, received as two messages in order', async () => {
    const pair = await connectedPair();
    const writes = countWrites(pair.serverSide);
    const sender = new BoundedSender(pair.serverSide, 1000, 3, 'server');
    sender.sendPair('{"event":"media"}', '{"event":"mark"}');
    sender.send('{"event":"clear"}');
    await until(() => pair.toClient.length === 3);
    expect(pair.toClient).toEqual(['{"event":"media"}', '{"event":"mark"}', '{"event":"clear"}']);
    expect(writes()).toBe(2);
    sender.dispose();
    await pair.close();
  });

  it('sends the frames of one tick in one system call (corked until the tick ends)', async () => {
    const pair = await connectedPair();
    const raw = (
      pair.serverSide as unknown as {
        _socket: { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
      }
    )._socket;
    const calls: number[] = []; // chunks per call of the socket's own write or writev
    const write = raw._write.bind(raw);
    const writev = raw._writev.bind(raw);
    raw._write = (...args: unknown[]) => (calls.push(1), write(...args));
    raw._writev = (...args: unknown[]) => (
      calls.push((args[0] as unknown[]).length),
      writev(...args)
    );
    const sender = new BoundedSender(pair.serverSide, 1 << 20, 3, 'server');
    try {
      const deltas = [
        '{"event":"media","n":1}',
        '{"event":"media","n":2}',
        '{"event":"media","n":3}',
      ];
      sender.send(deltas[0]);
      sender.sendPair(deltas[1], '{"event":"mark"}');
      sender.send(deltas[2]);
      expect(calls).toEqual([]); // nothing leaves before the tick ends
      await until(() => pair.toClient.length === 4);
      expect(calls).toEqual([3]);
      expect(pair.toClient).toEqual([deltas[0], deltas[1], '{"event":"mark"}', deltas[2]]);
      // A frame of a later tick is a write of its own.
      sender.send('{"event":"clear"}');
      await until(() => pair.toClient.length === 5);
      expect(calls).toEqual([3, 1]);
    } finally {
      sender.dispose();
      await pair.close();
    }
  });

  it("masks a client's frames as the server requires, non-ASCII and long text included", async () => {
    const pair = await connectedPair();
    const sender = new BoundedSender(pair.client, 1 << 20, 3, 'client');
    const long = 'x'.repeat(70_000);
    sender.send('{"type":"input_audio_buffer.append","audio":"AAAA"}');
    sender.sendPair('héllo ☎', long);
    await until(() => pair.toServer.length === 3);
    expect(pair.toServer).toEqual([
      '{"type":"input_audio_buffer.append","audio":"AAAA"}',
      'héllo ☎',
      long,
    ]);
    sender.dispose();
    await pair.close();
  });

  it('leaves framing to ws on a compressed connection', async () => {
    const pair = await connectedPair(true);
    expect(pair.serverSide.extensions).toContain('permessage-deflate');
    const writes = countWrites(pair.serverSide);
    const sender = new BoundedSender(pair.serverSide, 1000, 3, 'server');
    sender.sendPair('media', 'mark');
    await until(() => pair.toClient.length === 2);
    expect(pair.toClient).toEqual(['media', 'mark']);
    // ws compresses asynchronously and writes header and payload itself.
    expect(writes()).not.toBe(1);
    sender.dispose();
    await pair.close();
  });
});
