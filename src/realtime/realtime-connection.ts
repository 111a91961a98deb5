import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { BoundedSender } from '../websocket/bounded-sender.js';
import { closeReason } from '../websocket/close-reason.js';
import { rawDataToString } from '../websocket/raw-data.js';
import { Heartbeat } from '../websocket/heartbeat.js';
import { parseRealtimeEvent, type RealtimeServerEvent } from './realtime.events.js';
import type { AuthHeaders } from './realtime-credentials.service.js';

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
  /** Set when no credential could be had for the upgrade (an Entra ID token): nothing was sent. */
  credentialError?: string;
  /** The refused credential was dropped (an Entra ID token on a 401): a retry sends a new one. */
  credentialRenewed?: boolean;
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
/**
 * A ping this often on an open socket. OpenAI may rightly send nothing for minutes (a silent
 * caller), so silence proves nothing, but a socket that answered neither a ping nor with any
 * event for a whole interval is dead (a half-open path, a stalled proxy): it is closed (1006)
 * and the session replaced, instead of leaving the caller in dead air until TCP gives up.
 */
const PING_INTERVAL_MS = 10_000;

export interface RealtimeConnectionOptions {
  url: string;
  /**
   * The upgrade's credential headers (RealtimeCredentials); a promise when a token must be had
   * first, which counts against connectTimeoutMs.
   */
  headers: AuthHeaders;
  /**
   * The most the attempt may take to open, start to finish (the caller gives the smaller of
   * OPENAI_CONNECT_TIMEOUT_MS and the time left in its episode, ConnectDeadline).
   */
  connectTimeoutMs: number;
  /** Appends held back while OpenAI does not read (AUDIO_MAX_BACKLOG_FRAMES if not given). */
  audioBacklogFrames?: number;
  /** PING_INTERVAL_MS if not given. */
  pingIntervalMs?: number;
  /**
   * Told of a refused upgrade with the headers it carried (RealtimeCredentials.renewsRefused);
   * true when the credential was dropped and a retry will send another.
   */
  renewsRefused?: (status: number | undefined, headers: Record<string, string>) => boolean;
  /** Why the credential last failed (RealtimeCredentials.lastTokenError), named on a timeout. */
  credentialProblem?: () => string | undefined;
}

/**
 * One WebSocket to the Realtime API for one call. It turns the socket's events into typed,
 * validated Realtime events and a single `onClose`, whatever way the socket ends.
 */
export class RealtimeConnection {
  private socket?: WebSocket;
  private closedByUs = false;
  private opened = false;
  private httpStatus?: number;
  private lastError?: string;
  private credentialError?: string;
  private credentialRenewed = false;
  private closeReported = false;
  private out?: BoundedSender;
  private readonly openTimer: NodeJS.Timeout;
  private heartbeat?: Heartbeat;

  constructor(
    private readonly options: RealtimeConnectionOptions,
    private readonly handlers: RealtimeConnectionHandlers,
  ) {
    // ws's handshakeTimeout is an idle timeout on the socket: an upstream that dribbles a byte
    // now and then (slow TLS, a stalled proxy) would outlast it. This bounds the whole attempt,
    // the wait for a token included.
    this.openTimer = setTimeout(() => {
      if (this.socket) {
        this.lastError = `no answer to the upgrade within ${options.connectTimeoutMs} ms`;
        this.socket.terminate();
        return;
      }
      // Nothing was sent: the attempt waited all along for the credential (an Entra ID token).
      const none = `none within ${options.connectTimeoutMs} ms`;
      this.lastError = `waiting for a Microsoft Entra ID token: ${none}`;
      // A credential that has failed before is failing still: the call is told why at once,
      // not after retries that would wait on the same request.
      const problem = options.credentialProblem?.();
      if (problem !== undefined) this.credentialError = `${none}; last error: ${problem}`;
      this.reportClose(1006, '');
    }, options.connectTimeoutMs);
    this.openTimer.unref();
    const headers = options.headers;
    if (!(headers instanceof Promise)) {
      this.open(headers);
      return;
    }
    headers.then(
      (ready) => {
        if (!this.closeReported) this.open(ready);
      },
      (error: unknown) => {
        this.credentialError = error instanceof Error ? error.message : String(error);
        this.reportClose(1006, '');
      },
    );
  }

  private open(headers: Record<string, string>): void {
    const socket = new WebSocket(this.options.url, {
      // GA only: no OpenAI-Beta header, which now gets `beta_api_shape_disabled`.
      headers,
      handshakeTimeout: this.options.connectTimeoutMs,
      perMessageDeflate: false,
      // ws's defaults otherwise, as RFC 6455 asks: a random masking key per frame (5.3) and
      // text frames checked for UTF-8 (8.1).
      maxPayload: MAX_EVENT_BYTES,
    });
    this.socket = socket;
    // Only appends are ever dropped: every other client event is kept, in order behind them.
    this.out = new BoundedSender(
      socket,
      AUDIO_HIGH_WATER_BYTES,
      this.options.audioBacklogFrames ?? AUDIO_MAX_BACKLOG_FRAMES,
      undefined,
      true,
    );
    socket.on('open', () => {
      clearTimeout(this.openTimer);
      this.opened = true;
      const intervalMs = this.options.pingIntervalMs ?? PING_INTERVAL_MS;
      this.heartbeat = new Heartbeat(socket, intervalMs, (why) => {
        this.lastError = why;
        socket.terminate();
      });
      this.handlers.onOpen();
    });
    socket.on('message', (data, isBinary) => {
      this.heartbeat?.heard();
      this.onMessage(data, isBinary);
    });
    socket.on('unexpected-response', (req: ClientRequest, res: IncomingMessage) => {
      this.httpStatus = res.statusCode;
      this.lastError = `upgrade refused with HTTP ${res.statusCode}`;
      this.credentialRenewed = this.options.renewsRefused?.(res.statusCode, headers) ?? false;
      res.resume();
      req.destroy();
      this.reportClose(1006, '');
    });
    socket.on('error', (error: Error) => {
      // Errors are always followed by 'close'; keep the message for that report.
      this.lastError ??= error.message;
    });
    socket.on('close', (code: number, reason: Buffer) => this.reportClose(code, reason.toString()));
  }

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Caller audio frames dropped because OpenAI did not keep up. */
  get droppedAudioFrames(): number {
    return this.out?.dropped ?? 0;
  }

  /**
   * A client event, already serialised (by RealtimeEventIds.stamp). Never dropped, and behind
   * the appends held while OpenAI does not read: an event the call sends after the caller's
   * words (a key press as text, a commit) must not reach OpenAI before them.
   */
  sendRaw(text: string): void {
    this.out?.send(text);
  }

  /** An `input_audio_buffer.append` (realtimeOutbound.appendAudioJson), dropped if OpenAI lags. */
  appendAudio(json: string): void {
    this.out?.sendAudio(json);
  }

  close(reason = 'call ended'): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    clearTimeout(this.openTimer);
    this.heartbeat?.stop();
    this.out?.dispose();
    const socket = this.socket;
    if (!socket) {
      // Still waiting for a token: nothing to close; the socket is never opened.
      this.reportClose(1006, '');
    } else if (socket.readyState === WebSocket.OPEN) {
      socket.close(1000, closeReason(reason));
      // Do not wait on the peer's close frame to free the call.
      setTimeout(() => socket.terminate(), 2000).unref();
    } else {
      socket.terminate();
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
    this.heartbeat?.stop();
    this.out?.dispose();
    this.handlers.onClose({
      wasOpen: this.opened,
      byUs: this.closedByUs,
      code,
      reason,
      httpStatus: this.httpStatus,
      error: this.lastError,
      credentialError: this.credentialError,
      credentialRenewed: this.credentialRenewed || undefined,
    });
  }
}
