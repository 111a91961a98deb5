import type WebSocket from 'ws';
import type { CallOrchestrator } from './call-orchestrator.js';
import type { PendingStream } from '../call/call-registry.service.js';
import { closeReason } from '../websocket/close-reason.js';
import { rawDataToString } from '../websocket/raw-data.js';
import type { StreamRefusal } from '../metrics/bridge-metrics.service.js';
import {
  parseTwilioFrame,
  type StartFrame,
  type TwilioInboundFrame,
} from '../twilio/media-stream.messages.js';
import { isCallSid } from '../twilio/sids.js';
import { MediaRateLimiter, tooFast } from './media-rate-limiter.js';
import type { StartingStream, StartOutcome, StreamStarter } from './stream-starter.service.js';
import {
  LARGE_FRAME_BYTES,
  MAX_BYTES_BEFORE_START,
  MAX_FRAME_BYTES,
  MAX_FRAME_BYTES_BEFORE_START,
  MAX_FRAMES_BEFORE_START,
  MAX_LARGE_DROPS_PER_CALL,
} from './media-stream.limits.js';

/** Frames kept while the call is being created (a few ms; bounded all the same). */
const MAX_FRAMES_WHILE_STARTING = 100;
/** Invalid frames logged per stream before it is a call; the rest are only counted. */
const MAX_LOGGED_DROPS = 5;
/**
 * A refused stream gets a close frame with the reason, then is destroyed this much later
 * whatever the peer does: a silent peer could otherwise hold the socket for ws's 30 s.
 */
export const REFUSED_CLOSE_GRACE_MS = 1000;

/**
 * pending: waiting for a valid `start`, in the pending pool, on the pre-start budget;
 * starting: `start` was valid, the call is being set up; started: a call owns the stream;
 * closed: whatever ended it, once (every release happens on the way in).
 */
export type ConnectionState = 'pending' | 'starting' | 'started' | 'closed';

/** What a connection needs from the gateway around it. */
export interface ConnectionHost {
  readonly starter: Pick<StreamStarter, 'refusalFor' | 'start'>;
  readonly pool: { removePending(stream: PendingStream): void };
  readonly metrics: { streamRefused(why: StreamRefusal): void };
  /** A throttled warning: strangers cause these. */
  warn(message: string): void;
  error(message: string): void;
}

/**
 * One Twilio media socket from upgrade to end: pending -> starting -> started -> closed. Before a
 * valid `start` it may cost us only a few small frames and a bounded wait; after it, it carries
 * one call's frames (its own stream's, at no more than real time).
 */
export class MediaStreamConnection implements PendingStream {
  private state: ConnectionState = 'pending';
  private call?: CallOrchestrator;
  private readonly startTimer: NodeJS.Timeout;
  private readonly early: TwilioInboundFrame[] = [];
  private readonly rate = new MediaRateLimiter();
  /** Until a valid `start`: what the stream has sent (frames, bytes) and dropped. */
  private framesBeforeStart = 0;
  private bytesBeforeStart = 0;
  private dropsBeforeStart = 0;
  private largeDropsAfterStart = 0;
  private authenticated = false;
  private oversized = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly host: ConnectionHost,
    private readonly startTimeoutMs: number,
  ) {
    this.startTimer = setTimeout(this.guarded('timer', this.onStartTimeout), startTimeoutMs);
    socket.on('message', this.guarded('message', this.onMessage));
    socket.on('close', this.guarded('close', this.onClose));
    socket.on('error', this.guarded('error', this.onError));
  }

  get current(): ConnectionState {
    return this.state;
  }

  /** Pushed out of the full pending pool by a newer upgrade. */
  evict(): void {
    if (this.state !== 'pending') return;
    this.destroy(
      'evicted',
      'waiting for start: evicted from the full pending pool (MAX_PENDING_STREAMS)',
    );
  }

  private readonly onStartTimeout = (): void => {
    if (this.state !== 'pending' && this.state !== 'starting') return;
    this.destroy('start_timeout', `with no valid start within ${this.startTimeoutMs} ms`);
  };

  private readonly onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    // ws has already read the frame (its maxPayload is per server); the budget stops the next.
    if (!this.authenticated && !this.withinBudget(byteLength(data))) return;
    if (this.state === 'closed') return;
    if (isBinary) return this.drop('binary frame (Twilio sends text)', data);
    const parsed = parseTwilioFrame(rawDataToString(data));
    if (!parsed.ok) return this.drop(parsed.reason, data);
    const frame = parsed.frame;
    if (this.state === 'started') {
      // Media aside, Twilio's frames of a call are small: a large one is junk, however well formed.
      if (frame.event !== 'media' && byteLength(data) > LARGE_FRAME_BYTES) {
        return this.drop(`${frame.event} frame larger than Twilio sends`, data);
      }
      return this.forward(this.call!, frame);
    }
    if (this.state === 'starting') {
      if (this.early.push(frame) > MAX_FRAMES_WHILE_STARTING) this.early.shift();
      return;
    }
    switch (frame.event) {
      case 'connected':
        return;
      case 'start':
        return this.start(frame);
      case 'stop':
        this.socket.close(1000);
        return;
      case 'media':
      case 'mark':
      case 'dtmf':
        return this.drop(`${frame.event} before start`);
    }
  };

  private readonly onClose = (code: number): void => {
    this.leave();
    const call = this.call;
    if (!call) return;
    const why = this.oversized
      ? `Twilio frame over the ${MAX_FRAME_BYTES / 1024} KiB limit`
      : `Twilio socket closed (${code})`;
    // In the call's scope, like every handler of the call (frames are, in handleTwilioFrame).
    call.scope.run(() =>
      call.close(why, this.oversized ? 'warn' : 'log', this.oversized ? 'refused' : 'completed'),
    );
  };

  private readonly onError = (error: Error & { code?: string }): void => {
    this.oversized ||= error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
    const callSid = this.call?.context.callSid;
    this.host.warn(
      `${callSid ? `[callSid=${callSid}] ` : ''}media stream socket error: ${error.message}`,
    );
    // A stream that is not a call yet gets no close handshake (ws would wait 30 s for it).
    if (this.state !== 'started' && this.leave()) this.socket.terminate();
  };

  /** Counts one frame before a valid `start`; false (and the socket destroyed) past the budget. */
  private withinBudget(bytes: number): boolean {
    let over: string | undefined;
    if (bytes > MAX_FRAME_BYTES_BEFORE_START) {
      over = `a ${bytes}-byte frame before start (at most ${MAX_FRAME_BYTES_BEFORE_START})`;
    } else if (++this.framesBeforeStart > MAX_FRAMES_BEFORE_START) {
      over = `more than ${MAX_FRAMES_BEFORE_START} frames before start`;
    } else if ((this.bytesBeforeStart += bytes) > MAX_BYTES_BEFORE_START) {
      over = `more than ${MAX_BYTES_BEFORE_START} bytes before start`;
    }
    if (over === undefined) return true;
    // Counted once; a stream already refused (in its close grace) is simply cut off.
    if (this.state === 'closed') this.socket.terminate();
    else this.destroy('pre_start_budget', `over its budget before start: ${over}`);
    return false;
  }

  private start(frame: StartFrame): void {
    const { callSid } = frame.start;
    const refusal = this.host.starter.refusalFor(frame);
    if (refusal) return this.refuse(refusal, 'unauthenticated', 1008, callSid);
    this.authenticated = true;
    this.state = 'starting';
    this.host.pool.removePending(this);
    void this.host.starter.start(frame, this.starting).then(
      this.guarded('start', (outcome: StartOutcome) => {
        if (outcome.kind === 'refused') {
          this.refuse(outcome.reason, outcome.why, outcome.code, callSid);
        }
      }),
      this.guarded('start', (error: unknown) => {
        this.host.error(`could not start call ${callSid}: ${String(error)}`);
        this.call?.close('internal error', 'warn', 'failed');
        if (this.leave()) this.closeThenDestroy(1011, 'internal error');
      }),
    );
  }

  /** The starter's view of this stream while its call is set up. */
  private readonly starting: StartingStream = {
    // A function, not the value: field initialisers run before parameter properties are set.
    socket: () => this.socket,
    wanted: () => this.state === 'starting' && this.socket.readyState === this.socket.OPEN,
    begin: (call: CallOrchestrator) => {
      this.state = 'started';
      this.call = call;
      clearTimeout(this.startTimer);
      call.begin();
      for (const queued of this.early.splice(0)) this.forward(call, queued);
    },
  };

  /**
   * A frame of a started call: only its own stream's, and no faster than Twilio sends (caller
   * audio at real time plus a burst), so nobody can push more audio into a paid OpenAI session
   * than a caller can, or keep the process busy with frames a call never needs.
   */
  private forward(call: CallOrchestrator, frame: TwilioInboundFrame): void {
    if ('streamSid' in frame && frame.streamSid !== call.context.streamSid) {
      return call.countDrop(`${frame.event} for another streamSid`);
    }
    const verdict = this.rate.frame(frame);
    if (verdict === 'forward') return call.handleTwilioFrame(frame);
    const reason = tooFast(frame.event);
    call.countDrop(reason);
    if (verdict !== 'close') return;
    this.endAbused(call, frame.event === 'media' ? 'media_flood' : 'frame_flood', reason);
  }

  /** Counted once: the stream is closed here, and the frames still in flight are ignored. */
  private endAbused(call: CallOrchestrator, why: StreamRefusal, reason: string): void {
    this.leave();
    this.host.metrics.streamRefused(why);
    // Our close code first: the call's own close would say 1000.
    this.closeThenDestroy(1008, reason);
    call.close(`Twilio stream kept sending ${reason}`, 'warn', 'refused');
  }

  private drop(reason: string, data?: WebSocket.RawData): void {
    if (this.call) {
      this.call.countDrop(reason);
      // Large frames Twilio never sends end the call; small ones (a newer Twilio's event) do not.
      const large = data !== undefined && byteLength(data) > LARGE_FRAME_BYTES;
      if (large && ++this.largeDropsAfterStart > MAX_LARGE_DROPS_PER_CALL) {
        this.endAbused(this.call, 'malformed', 'large malformed frames');
      }
    } else if (++this.dropsBeforeStart <= MAX_LOGGED_DROPS) {
      this.host.warn(`dropped Twilio frame before start: ${reason}`);
    }
  }

  /** Refused with a close frame saying why (Twilio's debugger shows it), then destroyed. */
  private refuse(reason: string, why: StreamRefusal, code: number, callSid: string): void {
    if (!this.leave()) return;
    this.host.metrics.streamRefused(why);
    // A malformed CallSid is the stranger's text: not logged.
    const sid = isCallSid(callSid) ? ` for callSid=${callSid}` : '';
    this.host.warn(`refused media stream${sid}: ${reason}`);
    this.closeThenDestroy(code, reason);
  }

  /** Destroyed at once, not politely closed: a stranger's socket gets no close handshake. */
  private destroy(why: StreamRefusal, reason: string): void {
    if (!this.leave()) return;
    this.host.metrics.streamRefused(why);
    this.host.warn(`destroyed a media stream ${reason}`);
    this.socket.terminate();
  }

  private closeThenDestroy(code: number, reason: string): void {
    this.socket.close(code, closeReason(reason));
    setTimeout(() => this.socket.terminate(), REFUSED_CLOSE_GRACE_MS).unref();
  }

  /** Into `closed`, once: the pending place and the start timer go. False if already closed. */
  private leave(): boolean {
    if (this.state === 'closed') return false;
    this.state = 'closed';
    clearTimeout(this.startTimer);
    this.host.pool.removePending(this);
    return true;
  }

  /** A throw in any handler ends this stream only, never the process or another call. */
  private guarded<A extends unknown[]>(
    what: string,
    handler: (...args: A) => void,
  ): (...args: A) => void {
    return (...args: A) => {
      try {
        handler(...args);
      } catch (error) {
        this.host.error(`internal error in media stream ${what}: ${(error as Error).stack}`);
        this.leave();
        this.call?.close('internal error', 'warn', 'failed');
        this.socket.terminate();
      }
    };
  }
}

function byteLength(data: WebSocket.RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data.byteLength;
}
