import { HeardAudioQueue } from './heard-audio.js';

const audio = (ms: number, fill: number) => Buffer.alloc(ms * 8, fill);

describe('HeardAudioQueue', () => {
  it('gives out audio only once its queue position has played, splitting a chunk mid-way', () => {
    const queue = new HeardAudioQueue(10_000);
    queue.push(audio(100, 1), 0, 1, 5000);
    queue.push(audio(100, 2), 100, 1, 5100);
    expect(queue.heardUntil(0)).toEqual([]);
    const first = queue.heardUntil(60);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ startMs: 0, run: 1, playsAt: 5000 });
    expect(first[0].mulaw.length).toBe(480);
    const next = queue.heardUntil(150);
    expect(next.map((piece) => [piece.startMs, piece.mulaw.length, piece.playsAt])).toEqual([
      [60, 320, 5060],
      [100, 400, 5100],
    ]);
    expect(next[1].mulaw.every((byte) => byte === 2)).toBe(true);
  });

  it('drops everything after a cut: what was not heard never will be', () => {
    const queue = new HeardAudioQueue(10_000);
    queue.push(audio(500, 1), 0, 1, 0);
    const heard = queue.cut(120);
    expect(heard.map((piece) => piece.mulaw.length)).toEqual([960]);
    expect(queue.isEmpty).toBe(true);
    expect(queue.heardUntil(10_000)).toEqual([]);
  });

  it('holds at most maxAheadMs, counting what it dropped', () => {
    const queue = new HeardAudioQueue(150);
    queue.push(audio(100, 1), 0, 1, 0);
    queue.push(audio(100, 2), 100, 1, 100);
    expect(queue.droppedBytes).toBe(800);
    expect(queue.heardUntil(1000).map((piece) => piece.mulaw.length)).toEqual([800]);
  });

  it('takes out audio dropped on its way to Twilio: what followed moves up, and in its run plays earlier', () => {
    const queue = new HeardAudioQueue(10_000);
    queue.push(audio(100, 1), 0, 1, 1000);
    queue.push(audio(100, 2), 100, 1, 1100);
    queue.push(audio(100, 3), 200, 1, 1200);
    queue.push(audio(100, 4), 300, 2, 9000);
    queue.dropped(100, 100);
    expect(
      queue.heardUntil(10_000).map((piece) => [piece.mulaw[0], piece.startMs, piece.playsAt]),
    ).toEqual([
      [1, 0, 1000],
      [3, 100, 1100],
      [4, 200, 9000],
    ]);
  });
});
