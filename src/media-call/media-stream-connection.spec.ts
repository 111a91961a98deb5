import { jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import type { CallOrchestrator } from './call-orchestrator.js';
import type { StreamRefusal } from '../metrics/bridge-metrics.service.js';
import type { StartFrame } from '../twilio/media-stream.messages.js';
import {
  MAX_DTMF_PER_S,
  MAX_EXCESS_MEDIA_S,
  MAX_EXCESS_OTHER_FRAMES,
  MEDIA_BURST_S,
  OTHER_FRAMES_BURST,
} from './media-rate-limiter.js';
import {
  MediaStreamConnection,
  REFUSED_CLOSE_GRACE_MS,
  type ConnectionHost,
} from './media-stream-connection.js';
import { LARGE_FRAME_BYTES, MAX_LARGE_DROPS_PER_CALL } from './media-stream.limits.js';
import {
  MAX_BYTES_BEFORE_START,
  MAX_FRAME_BYTES_BEFORE_START,
  MAX_FRAMES_BEFORE_START,
} from './media-stream.limits.js';
import type { StartingStream, StartOutcome } from './stream-starter.service.js';

const CALL_SID = 'CA0000000000000000000000000000000b';
const STREAM_SID = 'MZ00000000000000000000000000000001';
const TIMEOUT_MS = 5000;

/** A ws socket as far as the connection uses it; `terminate` closes it (1006) on the next tick. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  closedWith?: { code: number; reason?: string };
  terminated = false;
  /** Set to make `close` throw, as a handler bug would. */
  failClose = false;

  close(code: number, reason?: string): void {
    if (this.failClose) throw new Error('close failed');
    this.closedWith ??= { code, reason };
    this.readyState = 2;
  }
  terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.readyState = 3;
    setImmediate(() => this.emit('close', 1006));
  }
  receive(frame: unknown): void {
    this.emit(
      'message',
      Buffer.from(typeof frame === 'string' ? frame : JSON.stringify(frame)),
      false,
    );
  }
}

const connected = { event: 'connected', protocol: 'Call', version: '1.0.0' };
const start = {
  event: 'start',
  streamSid: STREAM_SID,
  start: {
    accountSid: 'AC0000000000000000000000000000000a',
    callSid: CALL_SID,
    streamSid: STREAM_SID,
  },
};
const media = (bytes = 160) => ({
  event: 'media',
  streamSid: STREAM_SID,
  media: { track: 'inbound', payload: Buffer.alloc(bytes, 0xff).toString('base64') },
});

function fakeCall() {
  return {
    context: { callSid: CALL_SID, streamSid: STREAM_SID },
    scope: { run: (action: () => void) => action() },
    begin: jest.fn(),
    handleTwilioFrame: jest.fn(),
    countDrop: jest.fn(),
    close: jest.fn(),
  };
}

function setUp(refusal?: string) {
  const socket = new FakeSocket();
  const refused: StreamRefusal[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  const pool = { removePending: jest.fn() };
  let settle: (outcome: StartOutcome) => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  let starts = 0;
  let starting: StartingStream | undefined;
  const host: ConnectionHost = {
    starter: {
      refusalFor: (_frame: StartFrame) => refusal,
      start: (_frame: StartFrame, stream: StartingStream) => {
        starting = stream;
        starts++;
        return new Promise<StartOutcome>((resolve, reject) => {
          settle = resolve;
          fail = reject;
        });
      },
    },
    pool,
    metrics: { streamRefused: (why) => refused.push(why) },
    warn: (message) => warnings.push(message),
    error: (message) => errors.push(message),
  };
  const connection = new MediaStreamConnection(socket as unknown as WebSocket, host, TIMEOUT_MS);
  const call = fakeCall();
  /** The starter makes the call, as StreamStarter does once the slot and lease are taken. */
  const started = async () => {
    starting!.begin(call as unknown as CallOrchestrator);
    settle({ kind: 'started', call: call as unknown as CallOrchestrator });
    await Promise.resolve();
  };
  return {
    socket,
    connection,
    refused,
    warnings,
    pool,
    call,
    started,
    errors,
    host,
    settle: (outcome: StartOutcome) => settle(outcome),
    fail: (error: Error) => fail(error),
    starts: () => starts,
    stream: () => starting,
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('MediaStreamConnection', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('destroys a pending stream with no valid start within its timeout', () => {
    const { socket, connection, refused, pool, warnings } = setUp();
    jest.advanceTimersByTime(TIMEOUT_MS - 1);
    expect(socket.terminated).toBe(false);
    jest.advanceTimersByTime(1);
    expect(socket.terminated).toBe(true);
    expect(socket.closedWith).toBeUndefined();
    expect(connection.current).toBe('closed');
    expect(refused).toEqual(['start_timeout']);
    expect(pool.removePending).toHaveBeenCalledWith(connection);
    expect(warnings).toEqual([
      `destroyed a media stream with no valid start within ${TIMEOUT_MS} ms`,
    ]);
  });

  it('refuses a start that fails authentication with 1008, then destroys it after the grace', () => {
    const { socket, connection, refused, warnings } = setUp('stream token invalid');
    socket.receive(connected);
    socket.receive(start);
    expect(connection.current).toBe('closed');
    expect(socket.closedWith).toEqual({ code: 1008, reason: 'stream token invalid' });
    expect(refused).toEqual(['unauthenticated']);
    expect(warnings).toEqual([
      `refused media stream for callSid=${CALL_SID}: stream token invalid`,
    ]);
    jest.advanceTimersByTime(REFUSED_CLOSE_GRACE_MS);
    expect(socket.terminated).toBe(true);
    jest.advanceTimersByTime(TIMEOUT_MS);
    expect(refused).toEqual(['unauthenticated']);
  });

  it('leaves the pool at a valid start and hands the call its socket and the frames sent meanwhile', async () => {
    const { socket, connection, pool, call, started, stream } = setUp();
    socket.receive(connected);
    socket.receive(start);
    expect(connection.current).toBe('starting');
    expect(pool.removePending).toHaveBeenCalledWith(connection);
    expect(stream()?.socket()).toBe(socket);
    // Past the pre-start budget's frame count: a valid start lifts it.
    for (let i = 0; i < MAX_FRAMES_BEFORE_START + 2; i++) socket.receive(media());
    await started();
    expect(connection.current).toBe('started');
    expect(call.begin).toHaveBeenCalledWith();
    expect(call.handleTwilioFrame).toHaveBeenCalledTimes(MAX_FRAMES_BEFORE_START + 2);
    socket.receive(media());
    expect(call.handleTwilioFrame).toHaveBeenCalledTimes(MAX_FRAMES_BEFORE_START + 3);
    jest.advanceTimersByTime(TIMEOUT_MS * 2);
    expect(socket.terminated).toBe(false);
  });

  it('closes with the code the starter gives when it refuses (no capacity: 1013)', async () => {
    const { socket, connection, refused, settle } = setUp();
    socket.receive(start);
    settle({ kind: 'refused', reason: '2 calls already active', why: 'no_capacity', code: 1013 });
    await flush();
    expect(connection.current).toBe('closed');
    expect(socket.closedWith).toEqual({ code: 1013, reason: '2 calls already active' });
    expect(refused).toEqual(['no_capacity']);
  });

  it('ends its call when the socket closes', async () => {
    const { socket, connection, call, started } = setUp();
    socket.receive(start);
    await started();
    socket.emit('close', 1000);
    expect(connection.current).toBe('closed');
    expect(call.close).toHaveBeenCalledWith('Twilio socket closed (1000)', 'log', 'completed');
  });

  it('leaves the pool, uncounted, when a pending socket closes', () => {
    const { socket, connection, refused, pool, warnings, errors } = setUp();
    socket.emit('close', 1006);
    expect(connection.current).toBe('closed');
    expect(pool.removePending).toHaveBeenCalledWith(connection);
    expect(refused).toEqual([]);
    expect([...warnings, ...errors]).toEqual([]);
    jest.advanceTimersByTime(TIMEOUT_MS);
    expect(refused).toEqual([]);
  });

  it('destroys a pending socket on a socket error, and leaves a started one to ws', async () => {
    const pending = setUp();
    pending.socket.emit('error', new Error('invalid opcode'));
    expect(pending.socket.terminated).toBe(true);
    expect(pending.connection.current).toBe('closed');
    expect(pending.warnings).toEqual(['media stream socket error: invalid opcode']);
    expect(pending.errors).toEqual([]);

    const live = setUp();
    live.socket.receive(start);
    await live.started();
    const oversized = Object.assign(new Error('Max payload size exceeded'), {
      code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    });
    live.socket.emit('error', oversized);
    expect(live.socket.terminated).toBe(false);
    expect(live.warnings).toEqual([
      `[callSid=${CALL_SID}] media stream socket error: Max payload size exceeded`,
    ]);
    live.socket.emit('close', 1009);
    expect(live.call.close).toHaveBeenCalledWith(
      'Twilio frame over the 64 KiB limit',
      'warn',
      'refused',
    );
  });

  it.each([
    [
      `more than ${MAX_FRAMES_BEFORE_START} frames before start`,
      () => Array.from({ length: MAX_FRAMES_BEFORE_START + 1 }, () => connected),
    ],
    [
      `a ${MAX_FRAME_BYTES_BEFORE_START + 1}-byte frame before start (at most ${MAX_FRAME_BYTES_BEFORE_START})`,
      () => ['x'.repeat(MAX_FRAME_BYTES_BEFORE_START + 1)],
    ],
    [
      `more than ${MAX_BYTES_BEFORE_START} bytes before start`,
      () => Array.from({ length: 3 }, () => 'x'.repeat(Math.ceil(MAX_BYTES_BEFORE_START / 2.5))),
    ],
  ])('destroys a pending socket past its budget before start: %s', (why, frames) => {
    const { socket, connection, refused, warnings } = setUp();
    const sent = frames();
    for (const frame of sent.slice(0, -1)) socket.receive(frame);
    expect(socket.terminated).toBe(false);
    socket.receive(sent.at(-1));
    expect(socket.terminated).toBe(true);
    expect(connection.current).toBe('closed');
    expect(refused).toEqual(['pre_start_budget']);
    expect(warnings.at(-1)).toBe(`destroyed a media stream over its budget before start: ${why}`);
    socket.receive(connected);
    expect(refused).toEqual(['pre_start_budget']);
  });

  it('cuts off a refused socket that goes on sending in its close grace, counting it once', () => {
    const { socket, refused } = setUp('stream token invalid');
    socket.receive(start);
    expect(socket.terminated).toBe(false);
    socket.receive('x'.repeat(MAX_FRAME_BYTES_BEFORE_START + 1));
    expect(socket.terminated).toBe(true);
    expect(refused).toEqual(['unauthenticated']);
  });

  it('is destroyed when evicted from the pool while pending, and not once started', async () => {
    const pending = setUp();
    pending.connection.evict();
    expect(pending.socket.terminated).toBe(true);
    expect(pending.refused).toEqual(['evicted']);
    expect(pending.warnings).toEqual([
      'destroyed a media stream waiting for start: evicted from the full pending pool (MAX_PENDING_STREAMS)',
    ]);

    const live = setUp();
    live.socket.receive(start);
    live.connection.evict();
    await live.started();
    live.connection.evict();
    expect(live.socket.terminated).toBe(false);
    expect(live.refused).toEqual([]);
  });

  it(`ends a started call whose stream keeps sending large malformed frames (over ${MAX_LARGE_DROPS_PER_CALL})`, async () => {
    const { socket, connection, refused, call, started } = setUp();
    socket.receive(start);
    await started();
    // Small ones (an event a newer Twilio may add) are only dropped, however many.
    for (let i = 0; i < 1000; i++) socket.receive({ event: 'future', streamSid: STREAM_SID });
    const large = `{"event":"junk","pad":"${'x'.repeat(LARGE_FRAME_BYTES)}"}`;
    for (let i = 0; i < MAX_LARGE_DROPS_PER_CALL; i++) socket.receive(large);
    expect(connection.current).toBe('started');
    for (let i = 0; i < 50; i++) socket.receive(large);
    expect(connection.current).toBe('closed');
    expect(refused).toEqual(['malformed']);
    expect(socket.closedWith).toEqual({ code: 1008, reason: 'large malformed frames' });
    expect(call.close).toHaveBeenCalledTimes(1);
    expect(call.close).toHaveBeenCalledWith(
      'Twilio stream kept sending large malformed frames',
      'warn',
      'refused',
    );
    expect(call.countDrop).toHaveBeenCalledTimes(1000 + MAX_LARGE_DROPS_PER_CALL + 1);
  });

  it('drops well-formed frames other than media that are larger than Twilio sends, as junk', async () => {
    const { socket, connection, refused, call, started } = setUp();
    socket.receive(start);
    await started();
    const mark = {
      event: 'mark',
      streamSid: STREAM_SID,
      mark: { name: 'x'.repeat(LARGE_FRAME_BYTES) },
    };
    for (let i = 0; i < MAX_LARGE_DROPS_PER_CALL; i++) socket.receive(mark);
    expect(connection.current).toBe('started');
    expect(call.handleTwilioFrame).not.toHaveBeenCalled();
    socket.receive(mark);
    expect(connection.current).toBe('closed');
    expect(refused).toEqual(['malformed']);
    expect(call.countDrop).toHaveBeenLastCalledWith('mark frame larger than Twilio sends');
  });

  it('forwards mark echoes at the rate Twilio sends them, and closes a stream that floods them', async () => {
    const { socket, connection, refused, call, started } = setUp();
    socket.receive(start);
    await started();
    const mark = { event: 'mark', streamSid: STREAM_SID, mark: { name: 'm1' } };
    const flood = OTHER_FRAMES_BURST + MAX_EXCESS_OTHER_FRAMES + 20;
    for (let i = 0; i < flood; i++) socket.receive(mark);
    expect(connection.current).toBe('closed');
    expect(refused).toEqual(['frame_flood']);
    expect(socket.closedWith).toEqual({
      code: 1008,
      reason: 'mark frames faster than Twilio sends',
    });
    // The burst went through (the clock moves a little meanwhile), then none.
    const forwarded = call.handleTwilioFrame.mock.calls.length;
    expect(forwarded).toBeGreaterThanOrEqual(OTHER_FRAMES_BURST);
    expect(forwarded).toBeLessThan(OTHER_FRAMES_BURST + 20);
    expect(call.close).toHaveBeenCalledTimes(1);
  });

  it('counts a stream that floods media once, however many frames are still in flight', async () => {
    const { socket, connection, refused, call, started } = setUp();
    socket.receive(start);
    await started();
    const second = media(8000);
    const frames = (MEDIA_BURST_S + MAX_EXCESS_MEDIA_S) * 2 + 20;
    for (let i = 0; i < frames; i++) socket.receive(second);
    expect(connection.current).toBe('closed');
    expect(refused).toEqual(['media_flood']);
    expect(socket.closedWith).toEqual({ code: 1008, reason: 'media faster than real time' });
    expect(call.close).toHaveBeenCalledTimes(1);
    expect(call.close).toHaveBeenCalledWith(
      'Twilio stream kept sending media faster than real time',
      'warn',
      'refused',
    );
    // Every frame past the burst is counted as dropped, the one that closed it too.
    expect(call.countDrop.mock.calls).toEqual(
      Array.from({ length: MAX_EXCESS_MEDIA_S + 1 }, () => ['media faster than real time']),
    );
  });

  it('tells the starter it is no longer wanted once it closed while its call was set up', async () => {
    const { socket, connection, stream, settle, refused } = setUp();
    socket.receive(start);
    expect(stream()?.wanted()).toBe(true);
    socket.readyState = 2;
    expect(stream()?.wanted()).toBe(false);
    socket.readyState = 1;
    expect(stream()?.wanted()).toBe(true);
    socket.emit('close', 1006);
    expect(stream()?.wanted()).toBe(false);
    settle({ kind: 'abandoned' });
    await flush();
    expect(connection.current).toBe('closed');
    expect(refused).toEqual([]);
  });

  it('drops and logs junk before start (binary, malformed, media) within the budget', () => {
    const { socket, connection, refused, warnings } = setUp();
    socket.emit('message', Buffer.from(JSON.stringify(connected)), true);
    socket.receive('not json');
    socket.receive(media());
    expect(connection.current).toBe('pending');
    expect(socket.terminated).toBe(false);
    expect(refused).toEqual([]);
    expect(warnings).toEqual([
      'dropped Twilio frame before start: binary frame (Twilio sends text)',
      expect.stringMatching(/^dropped Twilio frame before start: .+/),
      'dropped Twilio frame before start: media before start',
    ]);
    const other = setUp();
    other.socket.receive({ event: 'mark', streamSid: STREAM_SID, mark: { name: 'm' } });
    other.socket.receive({ event: 'dtmf', streamSid: STREAM_SID, dtmf: { digit: '1' } });
    expect(other.warnings).toEqual([
      'dropped Twilio frame before start: mark before start',
      'dropped Twilio frame before start: dtmf before start',
    ]);
  });

  it(`counts a frame's bytes whether ws hands over one buffer or several`, () => {
    const { socket, refused } = setUp();
    const half = Buffer.alloc(MAX_FRAME_BYTES_BEFORE_START / 2 + 1, 0x20);
    socket.emit('message', [half, half], false);
    expect(socket.terminated).toBe(true);
    expect(refused).toEqual(['pre_start_budget']);
  });

  it('takes exactly its budget before start: frames up to the count and bytes up to the bound', () => {
    const { socket, connection } = setUp();
    const frame = 'x'.repeat(MAX_BYTES_BEFORE_START / MAX_FRAMES_BEFORE_START);
    expect(frame.length).toBeLessThanOrEqual(MAX_FRAME_BYTES_BEFORE_START);
    for (let i = 0; i < MAX_FRAMES_BEFORE_START; i++) socket.receive(frame);
    expect(socket.terminated).toBe(false);
    expect(connection.current).toBe('pending');
    const single = setUp();
    single.socket.receive('x'.repeat(MAX_FRAME_BYTES_BEFORE_START));
    expect(single.socket.terminated).toBe(false);
  });

  it('closes normally when Twilio stops before start', () => {
    const { socket, refused } = setUp();
    socket.receive({ event: 'stop', streamSid: STREAM_SID });
    expect(socket.closedWith).toEqual({ code: 1000, reason: undefined });
    expect(refused).toEqual([]);
  });

  it("does not log a malformed CallSid it refuses: it is the stranger's text", () => {
    const { socket, warnings } = setUp('stream token invalid');
    const forged = { ...start, start: { ...start.start, callSid: 'CA-evil' } };
    socket.receive(forged);
    expect(warnings).toEqual(['refused media stream: stream token invalid']);
  });

  it('logs at most 5 frames dropped while its call is set up, and keeps the rest from the call', async () => {
    const { socket, warnings, call, started } = setUp();
    socket.receive(start);
    for (let i = 0; i < 8; i++) socket.receive('not json');
    expect(warnings).toHaveLength(5);
    expect(warnings[4]).toMatch(/^dropped Twilio frame before start: /);
    await started();
    expect(call.handleTwilioFrame).not.toHaveBeenCalled();
  });

  it('keeps the newest 100 frames sent while its call is set up', async () => {
    const { socket, call, started } = setUp();
    socket.receive(start);
    for (let i = 0; i < 101; i++) {
      socket.receive({ event: 'mark', streamSid: STREAM_SID, mark: { name: String(i) } });
    }
    await started();
    expect(call.handleTwilioFrame).toHaveBeenCalledTimes(100);
    const first = call.handleTwilioFrame.mock.calls[0][0] as { mark: { name: string } };
    expect(first.mark.name).toBe('1');
  });

  it('is destroyed when its call is still being set up at the start timeout', () => {
    const { socket, refused } = setUp();
    socket.receive(start);
    jest.advanceTimersByTime(TIMEOUT_MS);
    expect(socket.terminated).toBe(true);
    expect(refused).toEqual(['start_timeout']);
  });

  it('drops frames of a started call that are binary, malformed or for another stream', async () => {
    const { socket, call, started } = setUp();
    socket.receive(start);
    await started();
    socket.emit('message', Buffer.from(JSON.stringify(media())), true);
    socket.receive('{');
    socket.receive({ ...media(), streamSid: 'MZ00000000000000000000000000000002' });
    expect(call.handleTwilioFrame).not.toHaveBeenCalled();
    expect(call.countDrop).toHaveBeenCalledTimes(3);
    expect(call.countDrop).toHaveBeenCalledWith('binary frame (Twilio sends text)');
    expect(call.countDrop).toHaveBeenCalledWith('media for another streamSid');
  });

  it('drops key presses faster than a person types, and passes the rest to the call', async () => {
    const { socket, call, started } = setUp();
    socket.receive(start);
    await started();
    const key = { event: 'dtmf', streamSid: STREAM_SID, dtmf: { digit: '1' } };
    for (let i = 0; i < MAX_DTMF_PER_S + 5; i++) socket.receive(key);
    expect(call.handleTwilioFrame).toHaveBeenCalledTimes(MAX_DTMF_PER_S);
    expect(call.countDrop).toHaveBeenCalledTimes(5);
    expect(call.countDrop).toHaveBeenCalledWith('key presses faster than a person types');
  });

  it('drops media beyond real time before it closes a flooding stream', async () => {
    const { socket, connection, call, started } = setUp();
    socket.receive(start);
    await started();
    for (let i = 0; i < (MEDIA_BURST_S + 1) * 2; i++) socket.receive(media(8000));
    expect(connection.current).toBe('started');
    expect(call.countDrop).toHaveBeenCalledWith('media faster than real time');
    expect(call.handleTwilioFrame).toHaveBeenCalledTimes(MEDIA_BURST_S);
    expect(call.countDrop).toHaveBeenCalledTimes((MEDIA_BURST_S + 1) * 2 - MEDIA_BURST_S);
  });

  it('closes with 1011, saying why in the log, when its call cannot be started', async () => {
    const { socket, connection, errors, fail } = setUp();
    socket.receive(start);
    fail(new Error('redis down'));
    await flush();
    expect(connection.current).toBe('closed');
    expect(socket.closedWith).toEqual({ code: 1011, reason: 'internal error' });
    expect(errors).toEqual([`could not start call ${CALL_SID}: Error: redis down`]);
  });

  it('ends the call begun before its start failed', async () => {
    const { socket, call, stream, fail } = setUp();
    socket.receive(start);
    stream()!.begin(call as unknown as CallOrchestrator);
    fail(new Error('lease lost'));
    await flush();
    expect(call.close).toHaveBeenCalledWith('internal error', 'warn', 'failed');
    expect(socket.closedWith).toEqual({ code: 1011, reason: 'internal error' });
  });

  it('sends nothing more to a socket that closed while its call was set up', async () => {
    const gone = setUp();
    gone.socket.receive(start);
    gone.socket.emit('close', 1006);
    gone.fail(new Error('redis down'));
    await flush();
    expect(gone.socket.closedWith).toBeUndefined();

    const refusedLate = setUp();
    refusedLate.socket.receive(start);
    refusedLate.socket.emit('close', 1006);
    refusedLate.settle({ kind: 'refused', reason: 'busy', why: 'no_capacity', code: 1013 });
    await flush();
    expect(refusedLate.refused).toEqual([]);
    expect(refusedLate.warnings).toEqual([]);
  });

  it('starts nothing for a start sent again in the close grace after a refusal', async () => {
    const { socket, settle, starts } = setUp();
    socket.receive(start);
    settle({ kind: 'refused', reason: '2 calls already active', why: 'no_capacity', code: 1013 });
    await flush();
    socket.receive(start);
    expect(starts()).toBe(1);
  });

  it('treats any socket error on a started call as a plain close, unless the frame was too large', async () => {
    const { socket, call, started } = setUp();
    socket.receive(start);
    await started();
    socket.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    socket.emit('close', 1006);
    expect(call.close).toHaveBeenCalledWith('Twilio socket closed (1006)', 'log', 'completed');
  });

  it('ends only its own stream when a handler throws', async () => {
    const { socket, connection, call, started, errors } = setUp();
    socket.receive(start);
    await started();
    call.handleTwilioFrame.mockImplementation(() => {
      throw new Error('boom');
    });
    socket.receive(media());
    expect(socket.terminated).toBe(true);
    expect(connection.current).toBe('closed');
    expect(call.close).toHaveBeenCalledWith('internal error', 'warn', 'failed');
    expect(errors).toEqual([
      expect.stringMatching(/^internal error in media stream message: Error: boom/),
    ]);
  });

  it.each([
    [
      'timer',
      (t: ReturnType<typeof setUp>) => {
        t.host.metrics.streamRefused = () => {
          throw new Error('boom');
        };
        jest.advanceTimersByTime(TIMEOUT_MS);
      },
    ],
    [
      'close',
      async (t: ReturnType<typeof setUp>) => {
        t.socket.receive(start);
        await t.started();
        t.call.scope.run = () => {
          throw new Error('boom');
        };
        t.socket.emit('close', 1000);
      },
    ],
    [
      'error',
      (t: ReturnType<typeof setUp>) => {
        t.host.warn = () => {
          throw new Error('boom');
        };
        t.socket.emit('error', new Error('invalid opcode'));
      },
    ],
    [
      'start',
      async (t: ReturnType<typeof setUp>) => {
        t.socket.receive(start);
        t.socket.failClose = true;
        t.settle({ kind: 'refused', reason: 'busy', why: 'no_capacity', code: 1013 });
        await flush();
      },
    ],
    [
      'start',
      async (t: ReturnType<typeof setUp>) => {
        t.socket.receive(start);
        t.socket.failClose = true;
        t.fail(new Error('redis down'));
        await flush();
      },
    ],
  ])('names the %s handler when it throws, and ends the stream', async (what, act) => {
    const t = setUp();
    await Promise.resolve(act(t));
    expect(t.errors.at(-1)).toMatch(new RegExp(`^internal error in media stream ${what}: Error`));
    expect(t.socket.terminated).toBe(true);
  });
});
