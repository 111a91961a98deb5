import { jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { CallAudioListener } from '../call-audio/call-audio.js';
import type { CallAudioTap } from '../call-audio/call-audio-tap.js';
import type { Takeover } from '../media-call/takeover.js';
import { ListenSocket, type ListenGroup, type ListenSessions } from './listen-socket.js';
import {
  LISTEN_CLOSE_SETTLE_MS,
  LISTENER_HIGH_WATER_BYTES,
  LISTENER_MAX_BACKLOG_FRAMES,
  MAX_LISTEN_CLIENT_FRAMES_PER_S,
  MAX_LISTEN_CLIENT_IGNORED_FRAMES,
} from './listen.constants.js';

/** The part of a ws socket a listener uses, with a peer that reads or not. */
class FakeSocket extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  closed?: { code: number; reason: string };
  terminated = false;
  send(data: string): void {
    this.sent.push(data);
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  terminate(): void {
    this.terminated = true;
  }
  readonly OPEN = 1;
}

/** A console session, as ConsoleSessions answers for it: live until `end`. */
class FakeSessions implements ListenSessions {
  state_: 'live' | 'ended' | 'unknown' = 'live';
  answered: Promise<unknown> = Promise.resolve();
  readonly closers = new Map<string, (why: string) => void>();
  track(key: string, close: (why: string) => void): () => void {
    this.closers.set(key, close);
    return () => this.closers.delete(key);
  }
  async state(): Promise<'live' | 'ended' | 'unknown'> {
    await this.answered;
    return this.state_;
  }
  /** Checks from now on answer once the returned function is called (a slow or hung store). */
  holdAnswers(): () => void {
    let answer: () => void = () => undefined;
    this.answered = new Promise<void>((resolve) => (answer = resolve));
    return answer;
  }
  end(key: string): void {
    this.state_ = 'ended';
    this.closers.get(key)?.('session ended');
  }
}

function setUp(sessions?: FakeSessions, heldBy?: { operator: string; since: Date }) {
  const socket = new FakeSocket();
  let heard: CallAudioListener | undefined;
  let unsubscribed = false;
  const tap = {
    listen: (listener: CallAudioListener) => {
      heard = listener;
      return () => (unsubscribed = true);
    },
  } as unknown as CallAudioTap;
  let holder: object | undefined;
  const operatorAudio: string[] = [];
  const notes: Array<string | undefined> = [];
  const takeover = {
    take: (key: object) => ((holder = key), { ok: true }),
    holds: (key: object) => holder === key,
    operatorAudio: (_key: object, payload: string) => operatorAudio.push(payload),
    handBack: (key: object, note?: string) =>
      holder === key
        ? ((holder = undefined), notes.push(note), { ok: true })
        : { ok: false, reason: 'no' },
    get holder() {
      return heldBy;
    },
  } as unknown as Takeover;
  const broadcasts: string[] = [];
  const left: ListenSocket[] = [];
  const group: ListenGroup = {
    broadcast: (frame) => broadcasts.push(frame),
    leave: (listener) => left.push(listener),
    warn: () => undefined,
  };
  const listener = new ListenSocket(
    socket,
    sessions
      ? { callSid: 'CA1', operator: 'console:abc', session: 'key-1', tap, takeover }
      : { callSid: 'CA1', operator: 'api', tap, takeover },
    group,
    sessions,
  );
  listener.start();
  return {
    socket,
    heard: () => heard!,
    unsubscribed: () => unsubscribed,
    broadcasts,
    left,
    operatorAudio,
    notes,
    holder: () => holder,
    message: (frame: unknown) => socket.emit('message', Buffer.from(JSON.stringify(frame)), false),
  };
}

describe('ListenSocket', () => {
  it('sends start, then each track as media frames on the call’s clock', () => {
    const { socket, heard } = setUp();
    heard().callerAudio!(Buffer.from([1, 2, 3]), 40);
    heard().assistantAudio!(Buffer.from([4]), 61.6);
    expect(socket.sent.map((s) => JSON.parse(s) as unknown)).toEqual([
      {
        event: 'start',
        callSid: 'CA1',
        encoding: 'audio/x-mulaw',
        sampleRate: 8000,
        tracks: ['caller', 'assistant'],
        line: 'assistant',
      },
      { event: 'media', track: 'caller', timestamp: 40, payload: 'AQID' },
      { event: 'media', track: 'assistant', timestamp: 62, payload: 'BA==' },
    ]);
  });

  it('tells a listener that joins during a takeover that an operator holds the line', () => {
    const { socket } = setUp(undefined, { operator: 'console:abc', since: new Date() });
    expect(JSON.parse(socket.sent[0])).toMatchObject({ event: 'start', line: 'operator' });
  });

  it('drops a listener that does not read once its backlog is full, and holds no more than that', () => {
    const { socket, heard, unsubscribed, left } = setUp();
    socket.bufferedAmount = LISTENER_HIGH_WATER_BYTES + 1;
    for (let i = 0; i < LISTENER_MAX_BACKLOG_FRAMES; i++)
      heard().callerAudio!(Buffer.alloc(160), i);
    expect(socket.closed).toBeUndefined();
    heard().callerAudio!(Buffer.alloc(160), 99_999);
    expect(socket.closed?.code).toBe(1008);
    expect(unsubscribed()).toBe(true);
    expect(left).toHaveLength(1);
    expect(socket.sent).toHaveLength(1); // start only: nothing was written past the high water
  });

  it('says stop, then closes normally, when the call ends', () => {
    const { socket, heard } = setUp();
    heard().ended!();
    expect(socket.sent.at(-1)).toBe('{"event":"stop"}');
    expect(socket.closed).toEqual({ code: 1000, reason: 'call ended' });
  });

  it('passes the holder’s audio to the takeover, ignores it from a socket that does not hold the line', () => {
    const { message, operatorAudio, broadcasts } = setUp();
    message({ event: 'media', payload: 'AAAA' });
    expect(operatorAudio).toEqual([]);
    message({ event: 'takeover' });
    expect(broadcasts).toEqual(['{"event":"takeover","ok":true}']);
    message({ event: 'media', payload: 'AAAA' });
    expect(operatorAudio).toEqual(['AAAA']);
  });

  it('hands the line back when the holder’s socket closes', () => {
    const { socket, message, broadcasts } = setUp();
    message({ event: 'takeover' });
    socket.emit('close', 1006);
    expect(broadcasts).toEqual([
      '{"event":"takeover","ok":true}',
      '{"event":"handback","ok":true}',
    ]);
  });

  it('closes a client that keeps sending what it may not (MAX_LISTEN_CLIENT_IGNORED_FRAMES)', () => {
    const { socket } = setUp();
    for (let i = 0; i <= MAX_LISTEN_CLIENT_IGNORED_FRAMES && !socket.closed; i++) {
      socket.emit('message', Buffer.from('not json'), false);
    }
    expect(socket.closed?.code).toBe(1008);
  });

  it('takes no more client frames than MAX_LISTEN_CLIENT_FRAMES_PER_S at once', () => {
    const { message, operatorAudio } = setUp();
    message({ event: 'takeover' });
    for (let i = 0; i < 300; i++) message({ event: 'media', payload: 'AAAA' });
    // The burst, plus what the bucket refills while the loop runs (a few on a busy machine).
    expect(operatorAudio.length).toBeGreaterThanOrEqual(MAX_LISTEN_CLIENT_FRAMES_PER_S - 1);
    expect(operatorAudio.length).toBeLessThan(MAX_LISTEN_CLIENT_FRAMES_PER_S + 20);
  });
});

describe('ListenSocket opened by a console session', () => {
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  afterEach(() => jest.useRealTimers());

  it('takes the line while its session is live', async () => {
    const sessions = new FakeSessions();
    const { broadcasts, message, holder } = setUp(sessions);
    message({ event: 'takeover' });
    await settle();
    expect(holder()).toBeDefined();
    expect(broadcasts).toEqual([JSON.stringify({ event: 'takeover', ok: true })]);
  });

  it('closes 1008 "session ended" when its session ends, handing back a line it held', async () => {
    const sessions = new FakeSessions();
    const { socket, message, holder, unsubscribed } = setUp(sessions);
    message({ event: 'takeover' });
    await settle();
    sessions.end('key-1');
    expect(socket.closed).toEqual({ code: 1008, reason: 'session ended' });
    expect(holder()).toBeUndefined();
    expect(unsubscribed()).toBe(true);
    expect(sessions.closers.size).toBe(0);
  });

  it('refuses a takeover once its session has ended, though the end was not heard yet', async () => {
    const sessions = new FakeSessions();
    const { socket, message, holder } = setUp(sessions);
    sessions.state_ = 'ended';
    message({ event: 'takeover' });
    await settle();
    expect(holder()).toBeUndefined();
    expect(socket.sent.at(-1)).toBe(
      JSON.stringify({ event: 'takeover', ok: false, reason: 'session ended' }),
    );
    expect(socket.closed).toEqual({ code: 1008, reason: 'session ended' });
  });

  it('refuses a takeover while its session cannot be checked, and keeps listening', async () => {
    const sessions = new FakeSessions();
    const { socket, message, holder } = setUp(sessions);
    sessions.state_ = 'unknown';
    message({ event: 'takeover' });
    await settle();
    expect(holder()).toBeUndefined();
    expect(JSON.parse(socket.sent.at(-1)!)).toMatchObject({ event: 'takeover', ok: false });
    expect(socket.closed).toBeUndefined();
  });

  it('hands back while its session cannot be checked: giving the line up needs no check', async () => {
    const sessions = new FakeSessions();
    const { message, holder } = setUp(sessions);
    message({ event: 'takeover' });
    await settle();
    sessions.state_ = 'unknown';
    message({ event: 'handback' });
    await settle();
    expect(holder()).toBeUndefined();
  });

  it('hands back with the note of a handback sent just before the close, once', async () => {
    const sessions = new FakeSessions();
    const { socket, message, notes, broadcasts } = setUp(sessions);
    message({ event: 'takeover' });
    await settle();
    const answer = sessions.holdAnswers();
    message({ event: 'handback', note: 'refund agreed' });
    socket.emit('close', 1001);
    answer();
    await settle();
    expect(notes).toEqual(['refund agreed']);
    expect(broadcasts.filter((frame) => frame.includes('handback'))).toHaveLength(1);
  });

  it('never takes the line for a takeover whose socket closed before its check came back', async () => {
    const sessions = new FakeSessions();
    const { socket, message, holder, broadcasts } = setUp(sessions);
    const answer = sessions.holdAnswers();
    message({ event: 'takeover' });
    socket.emit('close', 1001);
    answer();
    await settle();
    expect(holder()).toBeUndefined();
    expect(broadcasts).toEqual([]);
  });

  it('hands back regardless after LISTEN_CLOSE_SETTLE_MS when the check hangs; the late check does nothing', async () => {
    jest.useFakeTimers();
    const sessions = new FakeSessions();
    const { socket, message, holder, notes } = setUp(sessions);
    message({ event: 'takeover' });
    await jest.advanceTimersByTimeAsync(0);
    const answer = sessions.holdAnswers();
    message({ event: 'handback', note: 'late' });
    message({ event: 'takeover' });
    socket.emit('close', 1006);
    await jest.advanceTimersByTimeAsync(LISTEN_CLOSE_SETTLE_MS - 1);
    expect(holder()).toBeDefined();
    await jest.advanceTimersByTimeAsync(1);
    expect(holder()).toBeUndefined();
    answer();
    await jest.advanceTimersByTimeAsync(0);
    expect(holder()).toBeUndefined();
    expect(notes).toEqual([undefined]);
  });
});
