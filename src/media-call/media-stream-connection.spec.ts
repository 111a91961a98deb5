import { jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import type { CallOrchestrator } from './call-orchestrator.js';
import type { StreamRefusal } from '../metrics/bridge-metrics.service.js';
import type { StartFrame } from '../twilio/media-stream.messages.js';
import { MAX_EXCESS_MEDIA_S, MEDIA_BURST_S } from './media-rate-limiter.js';
import {
  MediaStreamConnection,
  REFUSED_CLOSE_GRACE_MS,
  type ConnectionHost,
} from './media-stream-connection.js';
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

  close(code: number, reason?: string): void {
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
  const pool = { removePending: jest.fn() };
  let settle: (outcome: StartOutcome) => void = () => undefined;
  let starting: StartingStream | undefined;
  const host: ConnectionHost = {
    starter: {
      refusalFor: (_frame: StartFrame) => refusal,
      start: (_frame: StartFrame, stream: StartingStream) => {
        starting = stream;
        return new Promise<StartOutcome>((resolve) => (settle = resolve));
      },
    },
    pool,
    metrics: { streamRefused: (why) => refused.push(why) },
    warn: (message) => warnings.push(message),
    error: (message) => warnings.push(message),
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
    settle: (outcome: StartOutcome) => settle(outcome),
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
    const { socket, connection, pool, call, started } = setUp();
    socket.receive(connected);
    socket.receive(start);
    expect(connection.current).toBe('starting');
    expect(pool.removePending).toHaveBeenCalledWith(connection);
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
    const { socket, connection, refused, pool } = setUp();
    socket.emit('close', 1006);
    expect(connection.current).toBe('closed');
    expect(pool.removePending).toHaveBeenCalledWith(connection);
    expect(refused).toEqual([]);
    jest.advanceTimersByTime(TIMEOUT_MS);
    expect(refused).toEqual([]);
  });

  it('destroys a pending socket on a socket error, and leaves a started one to ws', async () => {
    const pending = setUp();
    pending.socket.emit('error', new Error('invalid opcode'));
    expect(pending.socket.terminated).toBe(true);
    expect(pending.connection.current).toBe('closed');

    const live = setUp();
    live.socket.receive(start);
    await live.started();
    const oversized = Object.assign(new Error('Max payload size exceeded'), {
      code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    });
    live.socket.emit('error', oversized);
    expect(live.socket.terminated).toBe(false);
    live.socket.emit('close', 1009);
    expect(live.call.close).toHaveBeenCalledWith(
      'Twilio frame over the 64 KiB limit',
      'warn',
      'refused',
    );
  });

  it.each([
    ['too many frames', () => Array.from({ length: MAX_FRAMES_BEFORE_START + 1 }, () => connected)],
    ['one frame too large', () => ['x'.repeat(MAX_FRAME_BYTES_BEFORE_START + 1)]],
    [
      'too many bytes in all',
      () => Array.from({ length: 3 }, () => 'x'.repeat(Math.ceil(MAX_BYTES_BEFORE_START / 2.5))),
    ],
  ])('destroys a pending socket past its budget before start: %s', (_what, frames) => {
    const { socket, connection, refused, warnings } = setUp();
    const sent = frames();
    for (const frame of sent.slice(0, -1)) socket.receive(frame);
    expect(socket.terminated).toBe(false);
    socket.receive(sent.at(-1));
    expect(socket.terminated).toBe(true);
    expect(connection.current).toBe('closed');
    expect(refused).toEqual(['pre_start_budget']);
    expect(warnings.at(-1)).toMatch(/^destroyed a media stream over its budget before start: /);
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

    const live = setUp();
    live.socket.receive(start);
    live.connection.evict();
    await live.started();
    live.connection.evict();
    expect(live.socket.terminated).toBe(false);
    expect(live.refused).toEqual([]);
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
    expect(socket.closedWith?.code).toBe(1008);
    expect(call.close).toHaveBeenCalledTimes(1);
  });

  it('tells the starter it is no longer wanted once it closed while its call was set up', async () => {
    const { socket, connection, stream, settle, refused } = setUp();
    socket.receive(start);
    expect(stream()?.wanted()).toBe(true);
    socket.emit('close', 1006);
    expect(stream()?.wanted()).toBe(false);
    settle({ kind: 'abandoned' });
    await flush();
    expect(connection.current).toBe('closed');
    expect(refused).toEqual([]);
  });
});
