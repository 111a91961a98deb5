import { Inject, Injectable, Scope } from '@nestjs/common';
import { CallContext } from '../call/call-context.js';
import { CallLogger } from '../call/call-logger.js';
import { CallScope } from '../call/call-scope.js';
import { LinkEvents } from '../call/link-events.js';
import { STABLE_SESSION_MS } from '../call/reconnect-policy.js';
import type { CallChannel } from '../call/call-transport.js';
import { openaiConfig, type OpenAIConfig } from '../config/config.namespaces.js';
import { ConnectDeadline } from '../realtime/connect-deadline.js';
import { RealtimeCredentials } from '../realtime/realtime-credentials.service.js';
import type { RealtimeCloseInfo } from '../realtime/realtime-connection.js';
import { RealtimeConnection } from '../realtime/realtime-connection.js';
import { RealtimeEventIds, type RealtimeClientEvent } from '../realtime/realtime-outbound.js';
import type { RealtimeServerEvent } from '../realtime/realtime.events.js';
import { carriedBySideband, SidebandHold } from './sideband-hold.js';
import { SIDEBAND_BACKOFF_MS } from './sip.constants.js';

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

/** A SIP call's SidebandLink events, for its SipCall. A per-call provider. */
@Injectable({ scope: Scope.REQUEST })
export class SidebandEvents extends LinkEvents<SidebandListener> {}

type State = 'connecting' | 'open' | 'closed';

/**
 * The control socket of one SIP call: a Realtime WebSocket opened with `?call_id=` (no
 * `model`: the session was configured when the call was accepted), speaking the same server
 * events as the media path's socket, parsed by the same parser. A socket lost while the call is
 * live is reopened, within SIDEBAND_BACKOFF_MS attempts (a socket that was up for less than
 * STABLE_SESSION_MS counts as one of them, as on the media path, so a sideband that keeps
 * dropping right after it opens ends in the same give-up); the session lives on at OpenAI with
 * the call, so nothing is re-sent but what was sent while the socket was down and still matters
 * to the session (SidebandHold: conversation items, session changes), sent first on the reopen.
 * The SIP call's CALL_CHANNEL: the shared per-call parts (scheduler, tools, keypad, session
 * changes) send through it. A per-call provider.
 */
@Injectable({ scope: Scope.REQUEST })
export class SidebandLink implements CallChannel {
  /** Stamps `event_id` on what we send, so an `error` that names one can be traced. */
  private readonly ids = new RealtimeEventIds('sb-');
  private state: State = 'connecting';
  private connection?: RealtimeConnection;
  private attempt = 0;
  private everOpened = false;
  /** When the socket now open opened (Date.now()). */
  private openedAt = 0;
  private retryTimer?: NodeJS.Timeout;
  /** What was sent while the socket was down (or not yet open), for the session that lives on. */
  private readonly held: SidebandHold;
  /** Each outage (the first open, or a loss) must end within OPENAI_CONNECT_DEADLINE_MS. */
  private readonly deadline: ConnectDeadline;

  constructor(
    private readonly context: CallContext,
    @Inject(openaiConfig.KEY) private readonly openai: OpenAIConfig,
    private readonly log: CallLogger,
    /** Every callback runs in it: a throw ends this call only. */
    private readonly scope: CallScope,
    private readonly events: SidebandEvents,
    private readonly credentials: RealtimeCredentials,
  ) {
    this.deadline = new ConnectDeadline(openai.connectDeadlineMs);
    this.held = new SidebandHold(log);
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** `${OPENAI_REALTIME_URL}?call_id=<id>` */
  get url(): string {
    const url = new URL(this.openai.realtimeUrl);
    url.searchParams.delete('model');
    url.searchParams.set('call_id', this.context.callSid);
    return url.toString();
  }

  /** Opens the sideband (in the call's scope: the socket carries the call with it). */
  start(): void {
    this.deadline.start(Date.now());
    this.connect();
  }

  /**
   * Returns the `event_id` the event went with; '' when the sideband is not open: then it is held
   * for the reopen or dropped, as SidebandHold's rule says, and after the call's end dropped.
   */
  send(event: RealtimeClientEvent, detail?: string): string {
    if (!carriedBySideband(event.type)) {
      throw new Error(`${event.type} is not sent on a SIP sideband`);
    }
    if (this.state !== 'open' || !this.connection) {
      if (this.state === 'connecting') this.held.add(event);
      return '';
    }
    this.connection.sendRaw(this.ids.stamp(event, detail));
    return event.event_id ?? '';
  }

  /** What an `error` naming this `event_id` was about. */
  describeEvent(eventId: string): string {
    return this.ids.describe(eventId);
  }

  /** Our explicit end: the socket is closed and nothing reopens it. */
  close(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.held.clear();
    clearTimeout(this.retryTimer);
    this.connection?.close(reason);
  }

  private connect(): void {
    const now = Date.now();
    const connection: RealtimeConnection = new RealtimeConnection(
      {
        url: this.url,
        // As every Realtime connection (Azure documents the same headers for the sideband):
        // fresh each attempt, so a reopen never sends an expired Entra ID token.
        headers: this.credentials.headers(),
        renewsRefused: (status, headers) => this.credentials.renewsRefused(status, headers),
        credentialProblem: () => this.credentials.lastTokenError,
        connectTimeoutMs: this.deadline.attemptTimeout(now, this.openai.connectTimeoutMs),
      },
      {
        onOpen: () => this.scope.run(() => connection === this.connection && this.onOpen()),
        onEvent: (event) =>
          this.scope.run(() => connection === this.connection && this.events.to.onEvent(event)),
        onInvalidEvent: (reason) => this.log.warn(`dropped invalid sideband event: ${reason}`),
        onClose: (info) =>
          this.scope.run(() => connection === this.connection && this.onClose(info)),
      },
    );
    this.connection = connection;
  }

  private onOpen(): void {
    if (this.state !== 'connecting') return;
    const reconnected = this.everOpened;
    this.state = 'open';
    this.openedAt = Date.now();
    this.everOpened = true;
    this.log.log(reconnected ? 'sideband reconnected' : 'sideband connected');
    // In the order sent, before anything the reopen sets going (the scheduler's waiting
    // requests: the model is asked to go on after the items it answers).
    for (const event of this.held.release()) this.send(event);
    this.events.to.onOpen(reconnected);
  }

  private onClose(info: RealtimeCloseInfo): void {
    if (info.byUs || this.state === 'closed') return;
    if (info.credentialError !== undefined) {
      // Nothing was sent; a token source that failed once within its own timeout is not retried.
      return this.gone(this.credentials.noToken(info.credentialError), 'failed');
    }
    const provider = this.credentials.provider;
    const detail = info.httpStatus
      ? `HTTP ${info.httpStatus}${info.credentialRenewed ? ', token dropped for a new one' : ''}`
      : `code ${info.code}${info.reason ? ` "${info.reason}"` : ''}${info.error ? `, ${info.error}` : ''}`;
    if (info.wasOpen && !RECONNECTABLE_CLOSE_CODES.has(info.code)) {
      return this.gone(`${provider} closed the sideband (${detail})`, 'ended');
    }
    const status = info.httpStatus;
    if ((status === 401 && !info.credentialRenewed) || status === 403) {
      return this.gone(
        `${provider} refused the sideband (${detail}); ${this.credentials.refusedHint(status)}`,
        'failed',
      );
    }
    if (status === 404 || status === 410) {
      // The call no longer exists at OpenAI: it is over.
      return this.gone(`${provider} refused the sideband (${detail}): the call is over`, 'ended');
    }
    const retryable = status === 429 || info.credentialRenewed === true;
    if (status !== undefined && status >= 400 && status < 500 && !retryable) {
      // Refused for a reason retrying will not change; the call may still be up.
      return this.gone(`${provider} refused the sideband (${detail})`, 'failed');
    }
    this.state = 'connecting';
    // A socket lost after a good while up starts a new budget of attempts, the first of them at
    // once; one lost sooner was a failed attempt of the budget it opened in (no reset, or a
    // server that drops every socket right after the upgrade is reconnected without end).
    if (info.wasOpen && Date.now() - this.openedAt >= STABLE_SESSION_MS) {
      this.attempt = -1;
      this.deadline.start(Date.now());
    }
    const next = this.attempt + 1;
    if (next >= SIDEBAND_BACKOFF_MS.length) {
      return this.gone(`could not open the sideband after ${next} attempts (${detail})`, 'failed');
    }
    const wait = SIDEBAND_BACKOFF_MS[next];
    if (!this.deadline.allows(Date.now(), wait)) {
      return this.gone(
        `could not open the sideband within OPENAI_CONNECT_DEADLINE_MS (${this.deadline.deadlineMs} ms, ${next} attempts, ${detail})`,
        'failed',
      );
    }
    this.log.warn(
      `sideband ${info.wasOpen ? 'lost' : 'attempt failed'} (${detail}); retrying in ${wait} ms`,
    );
    this.attempt = next;
    this.retryTimer = setTimeout(() => this.scope.run(() => this.connect()), wait);
  }

  private gone(reason: string, kind: 'ended' | 'failed'): void {
    this.close(reason);
    this.events.to.onGone(reason, kind);
  }
}
