import type { CallLogger } from '../call/call-logger.js';
import type { RealtimeCloseInfo } from '../realtime/realtime-connection.js';
import { RealtimeConnection } from '../realtime/realtime-connection.js';
import { RealtimeEventIds, type RealtimeClientEvent } from '../realtime/realtime-outbound.js';
import type { RealtimeServerEvent } from '../realtime/realtime.events.js';
import { SIDEBAND_BACKOFF_MS } from './sip.constants.js';

/**
 * What the application may send on a sideband. The caller's audio reaches OpenAI over SIP, so
 * the sideband never carries audio: `input_audio_buffer.*` has no place in this type, and
 * `send` refuses any other type at run time too.
 */
/** The client events a sideband may carry (no `input_audio_buffer.*`). */
const SIDEBAND_EVENT_TYPES = [
  'session.update',
  'conversation.item.create',
  'response.create',
  'response.cancel',
] as const;

export type SidebandClientEvent = Extract<
  RealtimeClientEvent,
  { type: (typeof SIDEBAND_EVENT_TYPES)[number] }
>;

const ALLOWED_TYPES: ReadonlySet<string> = new Set(SIDEBAND_EVENT_TYPES);

/**
 * Close codes after which the socket, not the call, is what went away: no close frame (1006: the
 * connection dropped), or the server asking us to come back (1011-1013). Any other close is the
 * call's session ending (the caller hung up, the call was transferred or hung up).
 */
const RECONNECTABLE_CLOSE_CODES = new Set([1006, 1011, 1012, 1013]);

export interface SidebandListener {
  /** The sideband is open (again, after a drop, when `reconnected`). */
  onOpen(reconnected: boolean): void;
  onEvent(event: RealtimeServerEvent): void;
  /**
   * The sideband is gone for good: `ended` when OpenAI closed it or said the call no longer
   * exists (the call is over), `failed` when it could not be (re)opened.
   */
  onGone(reason: string, kind: 'ended' | 'failed'): void;
}

export interface SidebandOptions {
  /** The Realtime URL (OPENAI_REALTIME_URL), to which `?call_id=` is added. */
  realtimeUrl: string;
  callId: string;
  apiKey: string;
  connectTimeoutMs: number;
}

type State = 'connecting' | 'open' | 'closed';

/**
 * The control socket of one SIP call: a Realtime WebSocket opened with `?call_id=` (no
 * `model`: the session was configured when the call was accepted), speaking the same server
 * events as the media path's socket, parsed by the same parser. A socket lost while the call is
 * live is reopened, within SIDEBAND_BACKOFF_MS attempts; the session lives on at OpenAI with
 * the call, so nothing needs to be re-sent.
 */
export class SidebandLink {
  /** Stamps `event_id` on what we send, so an `error` that names one can be traced. */
  private readonly ids = new RealtimeEventIds('sb-');
  private state: State = 'connecting';
  private connection?: RealtimeConnection;
  private attempt = 0;
  private everOpened = false;
  private retryTimer?: NodeJS.Timeout;

  constructor(
    private readonly options: SidebandOptions,
    private readonly log: CallLogger,
    private readonly listener: SidebandListener,
    /** Runs a callback so that a throw ends this call only. */
    private readonly guard: (action: () => void) => void,
  ) {}

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** `${OPENAI_REALTIME_URL}?call_id=<id>` */
  get url(): string {
    const url = new URL(this.options.realtimeUrl);
    url.searchParams.delete('model');
    url.searchParams.set('call_id', this.options.callId);
    return url.toString();
  }

  start(): void {
    this.connect();
  }

  send(event: SidebandClientEvent): void {
    if (!ALLOWED_TYPES.has(event.type)) {
      throw new Error(`${event.type} is not sent on a SIP sideband`);
    }
    if (this.state === 'open') this.connection?.sendRaw(this.ids.stamp(event));
  }

  /** Our explicit end: the socket is closed and nothing reopens it. */
  close(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    this.connection?.close(reason);
  }

  private connect(): void {
    const connection: RealtimeConnection = new RealtimeConnection(
      {
        url: this.url,
        apiKey: this.options.apiKey,
        connectTimeoutMs: this.options.connectTimeoutMs,
      },
      {
        onOpen: () => this.guard(() => connection === this.connection && this.onOpen()),
        onEvent: (event) =>
          this.guard(() => connection === this.connection && this.listener.onEvent(event)),
        onInvalidEvent: (reason) => this.log.warn(`dropped invalid sideband event: ${reason}`),
        onClose: (info) => this.guard(() => connection === this.connection && this.onClose(info)),
      },
    );
    this.connection = connection;
  }

  private onOpen(): void {
    if (this.state !== 'connecting') return;
    const reconnected = this.everOpened;
    this.state = 'open';
    this.attempt = 0;
    this.everOpened = true;
    this.log.log(reconnected ? 'sideband reconnected' : 'sideband connected');
    this.listener.onOpen(reconnected);
  }

  private onClose(info: RealtimeCloseInfo): void {
    if (info.byUs || this.state === 'closed') return;
    const detail = info.httpStatus
      ? `HTTP ${info.httpStatus}`
      : `code ${info.code}${info.reason ? ` "${info.reason}"` : ''}${info.error ? `, ${info.error}` : ''}`;
    if (info.wasOpen && !RECONNECTABLE_CLOSE_CODES.has(info.code)) {
      return this.gone(`OpenAI closed the sideband (${detail})`, 'ended');
    }
    const status = info.httpStatus;
    if (status === 401 || status === 403) {
      return this.gone(`OpenAI refused the sideband (${detail}); check OPENAI_API_KEY`, 'failed');
    }
    if (status === 404 || status === 410) {
      // The call no longer exists at OpenAI: it is over.
      return this.gone(`OpenAI refused the sideband (${detail}): the call is over`, 'ended');
    }
    if (status !== undefined && status >= 400 && status < 500 && status !== 429) {
      // Refused for a reason retrying will not change; the call may still be up.
      return this.gone(`OpenAI refused the sideband (${detail})`, 'failed');
    }
    this.state = 'connecting';
    // A socket lost mid-call starts a new budget of attempts, the first of them at once.
    if (info.wasOpen) this.attempt = -1;
    const next = this.attempt + 1;
    if (next >= SIDEBAND_BACKOFF_MS.length) {
      return this.gone(`could not open the sideband after ${next} attempts (${detail})`, 'failed');
    }
    const wait = SIDEBAND_BACKOFF_MS[next];
    this.log.warn(
      `sideband ${info.wasOpen ? 'lost' : 'attempt failed'} (${detail}); retrying in ${wait} ms`,
    );
    this.attempt = next;
    this.retryTimer = setTimeout(() => this.guard(() => this.connect()), wait);
  }

  private gone(reason: string, kind: 'ended' | 'failed'): void {
    this.close(reason);
    this.listener.onGone(reason, kind);
  }
}
