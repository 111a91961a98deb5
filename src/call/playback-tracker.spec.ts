import { PlaybackTracker } from './playback-tracker.js';

describe('PlaybackTracker', () => {
  it('is not playing before any audio is sent', () => {
    expect(new PlaybackTracker().isPlaying).toBe(false);
  });

  it('cuts an interrupted item at the milliseconds acknowledged by marks', () => {
    const tracker = new PlaybackTracker();
    const first = tracker.sent('item_1', 'resp_1', 0, 100);
    tracker.sent('item_1', 'resp_1', 0, 100);
    tracker.acknowledge(first);
    expect(tracker.interrupt()).toEqual([
      { itemId: 'item_1', responseId: 'resp_1', contentIndex: 0, audioEndMs: 100 },
    ]);
    expect(tracker.isPlaying).toBe(false);
  });

  it('never reports more than was sent, whatever order the echoes come in', () => {
    const tracker = new PlaybackTracker();
    const marks = [40, 40, 40].map((ms) => tracker.sent('item_1', 'resp_1', 0, ms));
    tracker.acknowledge(marks[2]);
    tracker.acknowledge(marks[0]);
    expect(tracker.interrupt()[0].audioEndMs).toBe(120);
  });

  it('forgets an item once its final mark echoes, so it is never truncated after playback', () => {
    const tracker = new PlaybackTracker();
    const audio = tracker.sent('item_1', 'resp_1', 0, 100);
    const final = tracker.finished('item_1')!;
    tracker.acknowledge(audio);
    expect(tracker.isPlaying).toBe(true);
    tracker.acknowledge(final);
    expect(tracker.isPlaying).toBe(false);
    expect(tracker.interrupt()).toEqual([]);
  });

  it('ignores echoes of marks flushed by a clear', () => {
    const tracker = new PlaybackTracker();
    const stale = tracker.sent('item_1', 'resp_1', 0, 100);
    tracker.interrupt();
    tracker.acknowledge(stale);
    tracker.sent('item_2', 'resp_2', 0, 60);
    expect(tracker.interrupt()).toEqual([
      { itemId: 'item_2', responseId: 'resp_2', contentIndex: 0, audioEndMs: 0 },
    ]);
  });

  it('gives no final mark for an item that is not playing', () => {
    expect(new PlaybackTracker().finished('item_x')).toBeUndefined();
  });
});
