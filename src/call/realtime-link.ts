import type { BridgeMetrics } from '../metrics/bridge-metrics.service.js';
import type { OpenAIRealtimeService } from '../realtime/openai-realtime.service.js';
import type { RealtimeCloseInfo, RealtimeConnection } from '../realtime/realtime-connection.js';
import { classifyConnectFailure, CONNECT_BACKOFF_MS } from '../realtime/realtime-failures.js';
import type { RealtimeHealth } from '../realtime/realtime-health.service.js';
import type { RealtimeServerEvent } from '../realtime/realtime.events.js';
import type { CallLogger } from './call-logger.js';

/** Caller audio held while the Realtime session (re)opens: 5 s of 20 ms frames, oldest dropped. */
const MAX_HELD_FRAMES = 250;

export interface RealtimeLinkListener {
  /**
   * A session is open: send `session.update` first (and after a reconnect, the re-seed). Audio
   * held meanwhile follows as soon as this returns.
   */
  onOpen(reconnected: boolean): void;
  /** The session was lost and a new one is being opened; state tied to the old one is void. */
  onReconnecting(): void;
  onEvent(event: RealtimeServerEvent): void;
  /** No session can be had (key refused, retries exhausted): the call cannot go on. */
  onFailure(reason: string): void;
}

type LinkState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * One call's link to the Realtime API, across connections: connects with bounded retries and
 * backoff (network errors, timeouts, 429, 5xx), fails at once on a refused key, replaces a lost
 * session while the caller stays on the line, and holds the caller's audio while no session is
 * open.
 */
export class RealtimeLink {
  private state: LinkState = 'connecting';
  private connection?: RealtimeConnection;
  private attempt = 0;
  private reconnectStartedAt = 0;
  private retryTimer?: NodeJS.Timeout;
  private readonly held: string[] = [];
  private heldDropped = 0;

  constructor(
    private readonly service: OpenAIRealtimeService,
    private readonly health: RealtimeHealth,
    private readonly metrics: BridgeMetrics,
    private readonly log: CallLogger,
    private readonly listener: RealtimeLinkListener,
    /** Runs a callback so that a throw ends this call only. */
    private readonly guard: (action: () => void) => void,
  ) {}

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Caller audio dropped: held too long, or not taken by a slow OpenAI socket. */
  get droppedAudioFrames(): number {
    return this.heldDropped + (this.connection?.droppedAudioFrames ?? 0);
  }

  start(): void {
    this.connect();
  }

  send(event: Record<string, unknown>): void {
    if (this.state === 'open') this.connection?.send(event);
  }

  /** Caller audio, already in the session's input format. */
  appendAudio(audio: string): void {
    if (this.state === 'open') {
      this.connection?.appendAudio(audio);
      return;
    }
    if (this.state === 'closed') return;
    // Connecting or reconnecting: keep the audio so the caller's words are not lost.
    if (this.held.push(audio) > MAX_HELD_FRAMES) {
      this.held.shift();
      this.heldDropped++;
    }
  }

  /**
   * The session is gone (socket lost, or its 60-minute limit): open a new one while the caller's
   * socket stays open.
   */
  reconnect(): void {
    if (this.state === 'closed') return;
    this.connection?.close('replacing the session');
    this.state = 'reconnecting';
    this.reconnectStartedAt = Date.now();
    this.attempt = 0;
    this.listener.onReconnecting();
    this.connect();
  }

  close(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    this.held.length = 0;
    this.connection?.close(reason);
  }

  private connect(): void {
    const connection: RealtimeConnection = this.service.connect({
      onOpen: () => this.guard(() => connection === this.connection && this.onOpen()),
      onEvent: (event) =>
        this.guard(() => connection === this.connection && this.listener.onEvent(event)),
      onInvalidEvent: (reason) => this.log.warn(`dropped invalid OpenAI event: ${reason}`),
      onClose: (info) => this.guard(() => connection === this.connection && this.onClose(info)),
    });
    this.connection = connection;
  }

  private onOpen(): void {
    if (this.state !== 'connecting' && this.state !== 'reconnecting') return;
    const reconnected = this.state === 'reconnecting';
    this.state = 'open';
    this.attempt = 0;
    this.health.connected();
    if (reconnected) {
      this.metrics.reconnected();
      this.log.log(`OpenAI Realtime reconnected in ${Date.now() - this.reconnectStartedAt} ms`);
    } else {
      this.log.log('OpenAI Realtime connected');
    }
    this.listener.onOpen(reconnected);
    for (const audio of this.held) this.connection?.appendAudio(audio);
    this.held.length = 0;
  }

  private onClose(info: RealtimeCloseInfo): void {
    if (info.byUs) {
      this.log.log('OpenAI Realtime disconnected');
      return;
    }
    if (this.state === 'closed') return;
    const detail = describeClose(info);
    if (info.wasOpen) {
      this.log.warn(`OpenAI Realtime socket closed mid-call (${detail}); reconnecting`);
      this.reconnect();
      return;
    }
    const kind = classifyConnectFailure(info);
    this.metrics.openaiError(
      info.httpStatus ? `connect_http_${info.httpStatus}` : 'connect_failed',
    );
    if (kind === 'auth') {
      this.health.rejectedKey(info.httpStatus ?? 0);
      return this.fail(
        `OpenAI rejected the API key (HTTP ${info.httpStatus}); check OPENAI_API_KEY`,
      );
    }
    const next = this.attempt + 1;
    if (kind === 'retryable' && next < CONNECT_BACKOFF_MS.length) {
      const delay = CONNECT_BACKOFF_MS[next];
      this.log.warn(
        `OpenAI Realtime connection attempt ${next} failed (${detail}); retrying in ${delay} ms`,
      );
      this.attempt = next;
      this.retryTimer = setTimeout(() => this.guard(() => this.connect()), delay);
      return;
    }
    this.fail(`could not connect to OpenAI Realtime after ${next} attempts (${detail})`);
  }

  private fail(reason: string): void {
    this.close(reason);
    this.listener.onFailure(reason);
  }
}

function describeClose(info: RealtimeCloseInfo): string {
  if (info.httpStatus) return `HTTP ${info.httpStatus}`;
  return `code ${info.code}${info.reason ? ` "${info.reason}"` : ''}${info.error ? `, ${info.error}` : ''}`;
}
