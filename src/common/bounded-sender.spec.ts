import { jest } from '@jest/globals';
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
});
