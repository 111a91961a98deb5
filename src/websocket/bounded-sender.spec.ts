import { jest } from '@jest/globals';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
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
    const sender = new BoundedSender(socket, 1000, 3);
    sender.send('a');
    sender.send('b');
    expect(socket.sent).toEqual(['a', 'b']);
    sender.dispose();
  });

  it('hands the audio it drops back with its tag, and only that', () => {
    const socket = new SlowSocket();
    socket.bufferedAmount = 5000;
    const dropped: Array<[readonly string[], number | undefined]> = [];
    const sender = new BoundedSender<number>(socket, 1000, 4, (frames, tag) =>
      dropped.push([frames, tag]),
    );
    sender.sendAudio('a1', 'm1', 10);
    sender.send('final');
    sender.sendAudio('a2', undefined, 20);
    sender.sendAudio('a3', 'm3', 30);
    expect(dropped).toEqual([[['a1', 'm1'], 10]]);
    // A clear forgets the audio still waiting: not dropped, nothing to take back.
    sender.discardAudio();
    expect(dropped).toHaveLength(1);
    expect(sender.backlogLength).toBe(1);
    sender.dispose();
  });

  it('holds at most maxBacklog frames for a stalled socket, dropping the oldest', () => {
    const socket = new SlowSocket();
    socket.bufferedAmount = 5000;
    const sender = new BoundedSender(socket, 1000, 3);
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
    const sender = new BoundedSender(socket, 1000, 3);
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
    const sender = new BoundedSender(socket, 1000, 4);
    sender.send('final-mark');
    sender.sendAudio('media1', 'mark1');
    sender.sendAudio('media2', 'mark2');
    expect(sender.backlogLength).toBe(3);
    expect(sender.dropped).toBe(2);
    socket.bufferedAmount = 0;
    sender.send('media3');
    jest.advanceTimersByTime(20);
    expect(socket.sent).toEqual(['final-mark', 'media2', 'mark2', 'media3']);
    sender.dispose();
  });

  it('drops lone audio frames as audio too, oldest first, never a mark or a clear', () => {
    jest.useFakeTimers();
    const socket = new SlowSocket();
    socket.bufferedAmount = 5000;
    const sender = new BoundedSender(socket, 1000, 4);
    sender.sendAudio('media1');
    sender.send('mark1');
    sender.sendAudio('media2');
    sender.send('clear');
    sender.sendAudio('media3', 'mark3');
    expect(sender.dropped).toBe(2);
    socket.bufferedAmount = 0;
    jest.advanceTimersByTime(20);
    expect(socket.sent).toEqual(['mark1', 'clear', 'media3', 'mark3']);
    sender.dispose();
  });

  it('keeps every control frame when told to, past maxBacklog too, dropping only audio', () => {
    jest.useFakeTimers();
    const socket = new SlowSocket();
    socket.bufferedAmount = 5000;
    const sender = new BoundedSender(socket, 1000, 3, undefined, true);
    sender.sendAudio('a1');
    sender.send('tool-output');
    for (const frame of ['a2', 'a3', 'a4', 'a5']) sender.sendAudio(frame);
    for (const frame of ['item1', 'item2', 'item3']) sender.send(frame);
    sender.sendAudio('a6');
    // Only audio went, oldest first (a6 too: the control frames alone fill the bound); the
    // control frames stand, in order, past it.
    expect(sender.dropped).toBe(6);
    expect(sender.backlogLength).toBe(4);
    socket.bufferedAmount = 0;
    jest.advanceTimersByTime(20);
    expect(socket.sent).toEqual(['tool-output', 'item1', 'item2', 'item3']);
    sender.dispose();
  });

  it('forgets the audio still waiting when told (a clear follows), keeping the rest in order', () => {
    jest.useFakeTimers();
    const socket = new SlowSocket();
    socket.bufferedAmount = 5000;
    const sender = new BoundedSender(socket, 1000, 10);
    sender.sendAudio('media1', 'mark1');
    sender.send('done-mark');
    sender.sendAudio('media2');
    sender.discardAudio();
    sender.send('clear');
    sender.sendAudio('fresh', 'mark2');
    expect(sender.backlogLength).toBe(4);
    expect(sender.dropped).toBe(0);
    socket.bufferedAmount = 0;
    jest.advanceTimersByTime(20);
    expect(socket.sent).toEqual(['done-mark', 'clear', 'fresh', 'mark2']);
    sender.dispose();
  });
});

/**
 * A real ws connection on loopback, through a TCP relay that keeps every byte the client sent:
 * the server's socket, the client's, what each received, and the client's bytes on the wire.
 */
async function connectedPair() {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((resolve) => server.once('listening', resolve));
  const wire: Buffer[] = [];
  const relayed: Socket[] = [];
  const relay = createServer((near) => {
    const far = connect((server.address() as AddressInfo).port, '127.0.0.1');
    relayed.push(near, far);
    near.on('data', (chunk: Buffer) => {
      wire.push(chunk);
      far.write(chunk);
    });
    far.pipe(near);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(relay.address() as AddressInfo).port}`, {
    perMessageDeflate: false,
  });
  await new Promise((resolve) => client.once('open', resolve));
  const serverSide = await accepted;
  const toClient: string[] = [];
  const toServer: string[] = [];
  client.on('message', (data: Buffer) => toClient.push(data.toString()));
  serverSide.on('message', (data: Buffer) => toServer.push(data.toString()));
  const close = async () => {
    client.terminate();
    relayed.forEach((socket) => socket.destroy());
    await new Promise((resolve) => relay.close(resolve));
    await new Promise((resolve) => server.close(resolve));
  };
  return { serverSide, client, toClient, toServer, wire: () => Buffer.concat(wire), close };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
}

/** The masking keys of the client's frames (RFC 6455 section 5.2), read from its bytes. */
function maskingKeys(wire: Buffer): { masked: boolean; key: string }[] {
  let at = wire.indexOf('\r\n\r\n') + 4; // after the upgrade request
  const frames: { masked: boolean; key: string }[] = [];
  while (at < wire.length) {
    const masked = (wire[at + 1] & 0x80) !== 0;
    let length = wire[at + 1] & 0x7f;
    at += 2;
    if (length === 126) {
      length = wire.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      length = Number(wire.readBigUInt64BE(at));
      at += 8;
    }
    frames.push({ masked, key: masked ? wire.subarray(at, at + 4).toString('hex') : '' });
    at += (masked ? 4 : 0) + length;
  }
  return frames;
}

describe('BoundedSender on a real ws connection', () => {
  it('delivers a pair and the frames around it as separate messages, in order', async () => {
    const pair = await connectedPair();
    const sender = new BoundedSender(pair.serverSide, 1000, 3);
    try {
      sender.send('{"event":"media","n":1}');
      sender.sendAudio('{"event":"media","n":2}', '{"event":"mark"}');
      sender.send('{"event":"clear"}');
      await until(() => pair.toClient.length === 4);
      expect(pair.toClient).toEqual([
        '{"event":"media","n":1}',
        '{"event":"media","n":2}',
        '{"event":"mark"}',
        '{"event":"clear"}',
      ]);
    } finally {
      sender.dispose();
      await pair.close();
    }
  });

  it("masks a client's frames with a fresh key each (RFC 6455 5.3), text intact", async () => {
    const pair = await connectedPair();
    const sender = new BoundedSender(pair.client, 1 << 20, 3);
    try {
      const long = 'x'.repeat(70_000);
      const appends = Array.from(
        { length: 8 },
        (_, i) => `{"type":"input_audio_buffer.append","audio":"AAA${i}"}`,
      );
      for (const append of appends) sender.send(append);
      sender.sendAudio('héllo ☎', long);
      await until(() => pair.toServer.length === 10);
      expect(pair.toServer).toEqual([...appends, 'héllo ☎', long]);
      const frames = maskingKeys(pair.wire());
      expect(frames).toHaveLength(10);
      expect(frames.every((frame) => frame.masked)).toBe(true);
      const keys = frames.map((frame) => frame.key);
      expect(keys).not.toContain('00000000');
      expect(new Set(keys).size).toBe(keys.length);
    } finally {
      sender.dispose();
      await pair.close();
    }
  });
});
