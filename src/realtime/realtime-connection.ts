import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { BoundedSender } from '../websocket/bounded-sender.js';
import { closeReason } from '../websocket/close-reason.js';
import { rawDataToString } from '../websocket/raw-data.js';
import { parseRealtimeEvent, type RealtimeServerEvent } from './realtime.events.js';

export interface RealtimeCloseInfo {
  /** True when the socket had opened before it closed. */
  wasOpen: boolean;
  /** True when we asked for the close (the call ended on our side). */
  byUs: boolean;
  code: number;
  reason: string;
  /** HTTP status of a refused upgrade (401 bad key, 429, 5xx ...). */
  httpStatus?: number;
  error?: string;
}

export interface RealtimeConnectionHandlers {
  onOpen(): void;
  onEvent(event: RealtimeServerEvent): void;
  onInvalidEvent(reason: string): void;
  onClose(info: RealtimeCloseInfo): void;
}

/** Audio queued on a slow OpenAI socket beyond this is dropped, oldest first (about 4 s of PCM16). */
const AUDIO_HIGH_WATER_BYTES = 256 * 1024;
/** Appends held past that, by default: 1 s of 20 ms frames. */
const AUDIO_MAX_BACKLOG_FRAMES = 50;
/**
 * The largest message taken from OpenAI; a bigger one closes the socket (1009) and the session
 * is replaced. Far above any real event; events over their own field bounds are dropped at parse.
 */
const MAX_EVENT_BYTES = 16 * 1024 * 1024;

export interface RealtimeConnectionOptions {
  url: string;
  apiKey: string;
  /**
   * The most the attempt may take to open, start to finish (the caller gives the smaller of
   * OPENAI_CONNECT_TIMEOUT_MS and the time left in its episode, ConnectDeadline).
   */
  connectTimeoutMs: number;
  /** Appends held back while OpenAI does not read (AUDIO_MAX_BACKLOG_FRAMES if not given). */
  audioBacklogFrames?: number;
}

/**
 * One WebSocket to the Realtime API for one call. It turns the socket's events into typed,
 * validated Realtime events and a single `onClose`, whatever way the socket ends.
 */
export class RealtimeConnection {
  private readonly socket: WebSocket;
  private closedByUs = false;
  private opened = false;
  private httpStatus?: number;
  private lastError?: string;
  private closeReported = false;
  private readonly audio: BoundedSender;
  private readonly openTimer: NodeJS.Timeout;

  constructor(
    options: RealtimeConnectionOptions,
    private readonly handlers: RealtimeConnectionHandlers,
  ) {
    this.socket = new WebSocket(options.url, {
      // GA only: no OpenAI-Beta header, which now gets `beta_api_shape_disabled`.
      headers: { Authorization: `Bearer ${options.apiKey}` },
      handshakeTimeout: options.connectTimeoutMs,
      perMessageDeflate: false,
      // ws's defaults otherwise, as RFC 6455 asks: a random masking key per frame (5.3) and
      // text frames checked for UTF-8 (8.1).
      maxPayload: MAX_EVENT_BYTES,
    });
    this.audio = new BoundedSender(
      this.socket,
      AUDIO_HIGH_WATER_BYTES,
      options.audioBacklogFrames ?? AUDIO_MAX_BACKLOG_FRAMES,
    );
    // ws's handshakeTimeout is an idle timeout on the socket: an upstream that dribbles a byte
    // now and then (slow TLS, a stalled proxy) would outlast it. This bounds the whole attempt.
    this.openTimer = setTimeout(() => {
      this.lastError = `no answer to the upgrade within ${options.connectTimeoutMs} ms`;
      this.socket.terminate();
    }, options.connectTimeoutMs);
    this.openTimer.unref();
    this.socket.on('open', () => {
      clearTimeout(this.openTimer);
      this.opened = true;
      this.handlers.onOpen();
    });
    this.socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.socket.on('unexpected-response', (req: ClientRequest, res: IncomingMessage) => {
      this.httpStatus = res.statusCode;
      this.lastError = `upgrade refused with HTTP ${res.statusCode}`;
      res.resume();
      req.destroy();
      this.reportClose(1006, '');
    });
    this.socket.on('error', (error: Error) => {
      // Errors are always followed by 'close'; keep the message for that report.
      this.lastError ??= error.message;
    });
    this.socket.on('close', (code: number, reason: Buffer) =>
      this.reportClose(code, reason.toString()),
    );
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Caller audio frames dropped because OpenAI did not keep up. */
  get droppedAudioFrames(): number {
    return this.audio.dropped;
  }

  /** A client event, already serialised (by RealtimeEventIds.stamp). */
  sendRaw(text: string): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(text);
  }

  /** An `input_audio_buffer.append` (realtimeOutbound.appendAudioJson), bounded if OpenAI lags. */
  appendAudio(json: string): void {
    this.audio.send(json);
  }

  close(reason = 'call ended'): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    clearTimeout(this.openTimer);
    this.audio.dispose();
    if (this.socket.readyState === WebSocket.OPEN) {
      this.socket.close(1000, closeReason(reason));
      // Do not wait on the peer's close frame to free the call.
      setTimeout(() => this.socket.terminate(), 2000).unref();
    } else {
      this.socket.terminate();
    }
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.handlers.onInvalidEvent('binary message');
      return;
    }
    const result = parseRealtimeEvent(rawDataToString(data));
    if (result.ok) this.handlers.onEvent(result.event);
    else this.handlers.onInvalidEvent(result.reason);
  }

  private reportClose(code: number, reason: string): void {
    if (this.closeReported) return;
    this.closeReported = true;
    clearTimeout(this.openTimer);
    this.audio.dispose();
    this.handlers.onClose({
      wasOpen: this.opened,
      byUs: this.closedByUs,
      code,
      reason,
      httpStatus: this.httpStatus,
      error: this.lastError,
    });
  }
}
