import { jest } from '@jest/globals';
import { BoundedSender, type TextSocket } from './bounded-sender.js';

class SlowSocket implements TextSocket {
  readonly sent: string[] = [];
  bufferedAmount = 0;
  readyState = 1;
  send(data: string | Buffer): void {
    this.sent.push(data.toString());
    this.bufferedAmount += data.length;
  }
}

/** A socket whose TCP socket (ws's `_socket`) records corking, as net.Socket would do it. */
class CorkedSocket extends SlowSocket {
  readonly _socket = {
    corked: 0,
    cork: () => {
      this._socket.corked++;
      this.sent.push('(cork)');
    },
    uncork: () => {
      this._socket.corked--;
      this.sent.push('(uncork)');
    },
  };
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

  it('sends a pair of frames in one corked write while the socket keeps up', () => {
    const socket = new CorkedSocket();
    const sender = new BoundedSender(socket, 1000, 3);
    sender.sendPair('media', 'mark');
    expect(socket.sent).toEqual(['(cork)', 'media', 'mark', '(uncork)']);
    expect(socket._socket.corked).toBe(0);
    sender.dispose();
  });

  it('drops the oldest audio pair before any lone frame (a mark the tracker waits for)', () => {
    jest.useFakeTimers();
    const socket = new SlowSocket();
    socket.bufferedAmount = 5000;
    const sender = new BoundedSender(socket, 1000, 4);
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

  it('delivers a backlog of pairs in order, in one corked write', () => {
    jest.useFakeTimers();
    const socket = new CorkedSocket();
    socket.bufferedAmount = 5000;
    const sender = new BoundedSender(socket, 1000, 10);
    sender.sendPair('media1', 'mark1');
    sender.send('clear');
    socket.bufferedAmount = 0;
    jest.advanceTimersByTime(20);
    expect(socket.sent).toEqual(['(cork)', 'media1', 'mark1', 'clear', '(uncork)']);
    expect(sender.backlogLength).toBe(0);
    sender.dispose();
  });
});
