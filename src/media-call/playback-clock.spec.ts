import { PlaybackClock } from './playback-clock.js';

/**
 * Twilio's side, simulated on a manual clock: audio plays in order, in real time, from the
 * moment it arrives (after `latencyMs`), and each mark echoes `latencyMs` after playback reaches
 * it.
 */
class SimulatedTwilio {
  now = 0;
  private queueEnd = 0;
  private readonly echoes: Array<{ at: number; name: string }> = [];

  constructor(
    private readonly clock: PlaybackClock,
    private readonly latencyMs: number,
  ) {}

  /** The bridge sends `ms` of audio (and maybe a mark) at the current time. */
  send(itemId: string, ms: number): void {
    const arrives = this.now + this.latencyMs;
    this.queueEnd = Math.max(this.queueEnd, arrives) + ms;
    const mark = this.clock.sent(itemId, 'resp_1', 0, ms, this.now);
    if (mark) this.echoes.push({ at: this.queueEnd + this.latencyMs, name: mark });
  }

  finish(itemId: string): void {
    const mark = this.clock.finished(itemId);
    if (mark) this.echoes.push({ at: this.queueEnd + this.latencyMs, name: mark });
  }

  /** Advances time, delivering echoes that are due. */
  advanceTo(time: number): void {
    this.echoes.sort((a, b) => a.at - b.at);
    while (this.echoes.length > 0 && this.echoes[0].at <= time) {
      const echo = this.echoes.shift()!;
      this.clock.acknowledge(echo.name, echo.at);
    }
    this.now = time;
  }

  get marksSent(): number {
    return this.echoes.length;
  }
}

function playAndInterrupt(deltaMs: number, interruptAtMs: number, latencyMs = 1) {
  let now = 0;
  const clock = new PlaybackClock(undefined, () => now);
  const twilio = new SimulatedTwilio(clock, latencyMs);
  // The model sends 6 s of audio much faster than real time (a delta every 5 ms), and stops
  // when the caller interrupts.
  let sentAt = 0;
  for (let total = 0; total < 6000 && sentAt < interruptAtMs; total += deltaMs) {
    twilio.advanceTo(sentAt);
    twilio.send('item_1', deltaMs);
    sentAt += 5;
  }
  twilio.advanceTo(interruptAtMs);
  now = interruptAtMs;
  // What the caller heard at that moment: playback began when the first audio arrived.
  const heard = interruptAtMs - latencyMs;
  return { cut: clock.interrupt().cuts[0], heard };
}

describe('PlaybackClock', () => {
  it.each([20, 600, 3000])(
    'truncates within 20 ms of what was heard for %i ms deltas',
    (deltaMs) => {
      for (const at of [150, 1500, 2750, 4200]) {
        const { cut, heard } = playAndInterrupt(deltaMs, at);
        expect(Math.abs(cut.audioEndMs - heard)).toBeLessThanOrEqual(20);
      }
    },
  );

  it('stays within 20 ms with 30 ms of network latency each way', () => {
    for (const deltaMs of [20, 600, 3000]) {
      const { cut, heard } = playAndInterrupt(deltaMs, 2000, 30);
      expect(Math.abs(cut.audioEndMs - heard)).toBeLessThanOrEqual(30);
    }
  });

  it('sends a mark per 100 ms of audio, not per delta', () => {
    const clock = new PlaybackClock(undefined, () => 0);
    const marks = Array.from({ length: 50 }, () => clock.sent('item_1', 'r', 0, 20)).filter(
      (mark) => mark !== undefined,
    );
    expect(marks).toHaveLength(10);
  });

  it('never cuts beyond what was sent, even if playback was meant to be over', () => {
    let now = 0;
    const clock = new PlaybackClock(undefined, () => now);
    clock.sent('item_1', 'r', 0, 300);
    now = 10_000;
    expect(clock.interrupt().cuts).toEqual([
      { itemId: 'item_1', responseId: 'r', contentIndex: 0, audioEndMs: 300 },
    ]);
  });

  it('holds at a mark that has not echoed (playback stalled)', () => {
    let now = 0;
    const clock = new PlaybackClock(undefined, () => now);
    const first = clock.sent('item_1', 'r', 0, 200)!;
    clock.sent('item_1', 'r', 0, 200);
    now = 150;
    expect(clock.heardMs('item_1')).toBe(150);
    now = 350;
    expect(clock.heardMs('item_1')).toBe(200);
    clock.acknowledge(first, 400);
    now = 450;
    expect(clock.heardMs('item_1')).toBe(250);
  });

  it('cuts an item queued behind another at 0', () => {
    let now = 0;
    const clock = new PlaybackClock(undefined, () => now);
    clock.sent('item_1', 'r1', 0, 1000);
    clock.sent('item_2', 'r2', 0, 1000);
    now = 500;
    expect(clock.interrupt().cuts.map((cut) => cut.audioEndMs)).toEqual([500, 0]);
  });

  it('restarts the clock when audio arrives after the queue ran dry', () => {
    let now = 0;
    const clock = new PlaybackClock(undefined, () => now);
    const fin = clock.sent('item_1', 'r', 0, 100)!;
    clock.acknowledge(clock.finished('item_1')!, 100);
    expect(clock.acknowledge(fin, 100)).toBe(false);
    expect(clock.isPlaying).toBe(false);
    now = 5000;
    clock.sent('item_2', 'r2', 0, 1000);
    now = 5400;
    expect(clock.heardMs('item_2')).toBe(400);
  });

  it('is playing until the final mark echoes, then forgets the item', () => {
    let now = 0;
    const clock = new PlaybackClock(undefined, () => now);
    const twilio = new SimulatedTwilio(clock, 1);
    twilio.send('item_1', 250);
    twilio.finish('item_1');
    expect(clock.isPlaying).toBe(true);
    twilio.advanceTo(240);
    expect(clock.isPlaying).toBe(true);
    twilio.advanceTo(260);
    now = 260;
    expect(clock.isPlaying).toBe(false);
    expect(clock.interrupt().cuts).toEqual([]);
  });

  it('reports the marks a clear flushes and ignores their echoes', () => {
    const clock = new PlaybackClock(undefined, () => 0);
    const mark = clock.sent('item_1', 'r', 0, 200)!;
    const { flushedMarks } = clock.interrupt();
    expect(flushedMarks).toEqual([mark]);
    expect(clock.acknowledge(mark)).toBe(false);
    expect(clock.isPlaying).toBe(false);
  });

  it('keeps the clock over audio of a replaced session but cuts none of its items', () => {
    let now = 0;
    const clock = new PlaybackClock(undefined, () => now);
    clock.sent('item_1', 'r', 0, 500);
    clock.forgetItems();
    now = 100;
    expect(clock.isPlaying).toBe(true);
    expect(clock.interrupt().cuts).toEqual([]);
  });
});

describe('PlaybackClock, audio of no model item (an operator during a takeover)', () => {
  it('takes its place in the queue and runs the clock, but leaves nothing to truncate', () => {
    let now = 1000;
    const clock = new PlaybackClock(undefined, () => now);
    expect(clock.sentUntracked(60)).toBeUndefined();
    const mark = clock.sentUntracked(60);
    expect(mark).toBeDefined();
    expect(clock.queuedMs).toBe(120);
    expect(clock.isPlaying).toBe(true);
    now += 50;
    expect(clock.positionMs()).toBe(50);
    expect(clock.interrupt().cuts).toEqual([]);
  });

  it('starts playing on arrival when the queue had run dry', () => {
    let now = 0;
    const clock = new PlaybackClock(undefined, () => now);
    clock.sentUntracked(40);
    now = 500;
    clock.sentUntracked(40);
    now = 520;
    expect(clock.positionMs()).toBe(60);
  });
});

describe('PlaybackClock, runs: when each piece plays', () => {
  it('dates a run by its start and each piece right after the one before, however late the echoes', () => {
    let now = 1000;
    const clock = new PlaybackClock(undefined, () => now);
    const marks = [0, 1, 2, 3, 4].map(() => clock.sent('item_1', 'r', 0, 100)!);
    const run = clock.run;
    // Twilio's echoes of the first two marks arrive 700 ms late, in a clump (an inbound stall).
    now = 1900;
    clock.acknowledge(marks[0]);
    clock.acknowledge(marks[1]);
    // The position jumps with them, but the audio still played back to back from 1000.
    expect(clock.run).toBe(run);
    expect([0, 100, 200, 300, 400].map((at) => clock.playsAt(at))).toEqual([
      1000, 1100, 1200, 1300, 1400,
    ]);
    // More audio while the queue still plays continues the run.
    now = 1300;
    clock.sent('item_1', 'r', 0, 100);
    expect(clock.run).toBe(run);
    expect(clock.playsAt(500)).toBe(1500);
  });

  it('starts a new run when audio reaches a queue that ran dry, and after a clear', () => {
    let now = 0;
    const clock = new PlaybackClock(undefined, () => now);
    clock.sent('item_1', 'r', 0, 100);
    const first = clock.run;
    now = 5000;
    clock.sent('item_2', 'r2', 0, 100);
    expect(clock.run).toBe(first + 1);
    expect(clock.playsAt(100)).toBe(5000);
    now = 5050;
    clock.interrupt();
    now = 5070;
    clock.sent('item_3', 'r3', 0, 100);
    expect(clock.run).toBe(first + 2);
    expect(clock.playsAt(0)).toBe(5070);
  });
});

describe('PlaybackClock, audio dropped under backpressure', () => {
  it('closes the queue up behind it, forgets its mark, and runs on what Twilio got', () => {
    let now = 0;
    const clock = new PlaybackClock(undefined, () => now);
    const marks = [0, 1, 2].map(() => clock.sent('item_1', 'r', 0, 100)!);
    // The second 100 ms (and its mark) never reached Twilio.
    clock.dropped(100, 100);
    expect(clock.queuedMs).toBe(200);
    expect(clock.acknowledge(marks[1])).toBe(false);
    clock.acknowledge(marks[0], 100);
    // Not held at the dropped mark: the clock runs on to the next one, now at 200.
    now = 180;
    expect(clock.positionMs()).toBe(180);
    now = 400;
    expect(clock.positionMs()).toBe(200);
    expect(clock.acknowledge(marks[2], 200)).toBe(true);
  });

  it('truncates in the item’s own audio: past the dropped stretch once the caller passed it', () => {
    let now = 0;
    const clock = new PlaybackClock(undefined, () => now);
    const marks = Array.from({ length: 10 }, () => clock.sent('item_1', 'r', 0, 100)!);
    // 200-500 ms of it, three deltas, dropped oldest first: each in turn is at 200.
    for (let i = 0; i < 3; i++) clock.dropped(200, 100);
    clock.acknowledge(marks[0], 100);
    now = 150;
    expect(clock.heardMs('item_1')).toBe(150);
    clock.acknowledge(marks[1], 200);
    // The mark after 600 ms of the item is at 300 in the queue now.
    clock.acknowledge(marks[5], 300);
    // 350 ms of queue heard: 200 before the drop, then the item from 500 ms on.
    now = 350;
    expect(clock.heardMs('item_1')).toBe(650);
    expect(clock.interrupt().cuts[0].audioEndMs).toBe(650);
  });

  it('keeps one stretch for audio dropped oldest first, however much of it', () => {
    let now = 0;
    const clock = new PlaybackClock(undefined, () => now);
    // Twenty minutes of 20 ms deltas at a socket that stopped reading: all but the last dropped.
    for (let i = 0; i < 60_000; i++) {
      clock.sent('item_1', 'r', 0, 20);
      if (i > 0) clock.dropped(0, 20);
    }
    expect(clock.queuedMs).toBe(20);
    now = 10;
    expect(clock.interrupt().cuts[0].audioEndMs).toBe(1_199_990);
  });

  it('moves the audio of a later run up without moving when that run plays', () => {
    let now = 0;
    const clock = new PlaybackClock(undefined, () => now);
    clock.sent('item_1', 'r', 0, 100);
    now = 3000;
    clock.sent('item_2', 'r2', 0, 100);
    clock.dropped(0, 100);
    expect(clock.playsAt(0)).toBe(3000);
    expect(clock.queuedMs).toBe(100);
  });
});
