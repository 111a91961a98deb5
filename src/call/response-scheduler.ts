import { Inject, Injectable, Scope } from '@nestjs/common';
import { isObject, shortText as text } from '../text/json-guards.js';
import { BridgeMetrics } from '../metrics/bridge-metrics.service.js';
import type { RealtimeErrorDetail, RealtimeResponse } from '../realtime/realtime.events.js';
import {
  realtimeOutbound,
  sayExactlyInstructions,
  type RealtimeClientEvent,
} from '../realtime/realtime-outbound.js';
import type { RealtimeResponseCreateParams } from 'openai/resources/realtime/realtime';
import { CallLogger } from './call-logger.js';
import { CALL_SETTINGS } from './call-providers.js';
import type { CallSettings } from './call-settings.service.js';
import { CALL_CHANNEL } from './call-transport.js';

/** Requests waiting for the active response to end; more (a flood of key presses) are dropped. */
export const MAX_QUEUED_RESPONSES = 8;
/** The metadata key that ties a `response.created` to the request that asked for it. */
const REQUEST_KEY = 'bridge_request';

export interface ResponseRequest {
  /** Why the bridge asks (logs): `tool output`, `keypad`, `goodbye`, `recovery` ... */
  reason: string;
  params?: Omit<RealtimeResponseCreateParams, 'metadata'>;
  /** The server created the response for this request. */
  onCreated?: (responseId: string) => void;
  /** Set on a retry, and on a recovery sentence: neither gets another. */
  retried?: boolean;
  recovery?: boolean;
}

/** Where responses are asked for: the call's CALL_CHANNEL (RealtimeLink, or a SIP sideband). */
export interface ResponseSink {
  readonly isOpen: boolean;
  /** Sends a client event; returns the `event_id` it went with. */
  send(event: RealtimeClientEvent): string;
}

interface Sent {
  id: string;
  request: ResponseRequest;
  eventId: string;
  spokenOver?: boolean;
}

/** A response taken for ours without our tag: an error about its request takes that back. */
interface Guess {
  responseId: string;
  sent: Sent;
  claim?: (responseId: string) => void;
}

/**
 * One response at a time, and never silent air. A `response.create` while a response is active
 * only earns `conversation_already_has_active_response`, so requests wait for the active one's
 * `response.done` (or for the session to be open again), and one that still collides with a
 * response the server started on its own (VAD) is put back in front. Responses the caller
 * interrupted are discarded (their late deltas dropped). A response that `failed` is retried
 * once, then the call goes to its fallback; one cut short (`incomplete`: token limit, content
 * filter) is followed by a short spoken recovery sentence. Each such end is a warning and a
 * metric by reason. A per-call provider.
 */
@Injectable({ scope: Scope.REQUEST })
export class ResponseScheduler {
  private activeId?: string;
  /**
   * The server said a response is active that this scheduler never saw created (a SIP sideband
   * reopened on a session that was mid-answer): requests wait for its `response.done`, instead
   * of colliding again and again while it runs.
   */
  private activeUnseen = false;
  /** Our `response.create` sent, its `response.created` not seen yet. */
  private awaiting?: Sent;
  private readonly queue: ResponseRequest[] = [];
  private readonly requests = new Map<string, ResponseRequest>();
  private readonly discarded = new Set<string>();
  private claim?: (responseId: string) => void;
  /** The server has echoed our tag once: an untagged response is then never ours. */
  private echoes = false;
  private guess?: Guess;
  private sequence = 0;
  private readonly recoveryMessage: string;

  constructor(
    @Inject(CALL_CHANNEL) private readonly sink: ResponseSink,
    @Inject(CallLogger) private readonly log: Pick<CallLogger, 'warn' | 'debug'>,
    @Inject(BridgeMetrics) private readonly metrics: Pick<BridgeMetrics, 'responseProblem'>,
    @Inject(CALL_SETTINGS) settings: Pick<CallSettings, 'recoveryMessage'>,
  ) {
    this.recoveryMessage = settings.recoveryMessage;
  }

  /** The response the server is generating, if any. */
  get activeResponseId(): string | undefined {
    return this.activeId;
  }

  /** True while a response is active or one of ours is on its way. */
  get busy(): boolean {
    return this.activeId !== undefined || this.awaiting !== undefined || this.activeUnseen;
  }

  request(request: ResponseRequest): void {
    const plain = request.params === undefined && !request.onCreated;
    // A plain "go on" already waiting covers another one.
    if (plain && this.queue.some((queued) => queued.params === undefined && !queued.onCreated)) {
      return;
    }
    if (this.queue.length >= MAX_QUEUED_RESPONSES) {
      this.log.warn(
        `dropped a response request (${request.reason}): ${this.queue.length} already waiting`,
      );
      return;
    }
    this.queue.push(request);
    this.flush();
  }

  /** The next response created for one of our requests is passed to `claim` (once). */
  claimNextCreated(claim: (responseId: string) => void): void {
    this.claim = claim;
  }

  /**
   * Takes back `request` if it has not been sent yet, and the claim on the next response: what
   * asked for them no longer wants them (an operator took the line from a wrap-up).
   */
  withdraw(request?: ResponseRequest): void {
    this.claim = undefined;
    const at = request === undefined ? -1 : this.queue.indexOf(request);
    if (at >= 0) this.queue.splice(at, 1);
  }

  /** Speech began before our response was created, so the server will not stop it: we will. */
  stopOnCreate(): void {
    if (this.awaiting) this.awaiting.spokenOver = true;
  }

  /** Drops the late deltas of this response (the caller interrupted it). */
  discard(responseId: string): void {
    this.discarded.add(responseId);
  }

  isDiscarded(responseId: string): boolean {
    return this.discarded.has(responseId);
  }

  /** Stops the active response: a key press, an operator, or speech the server will not cut off. */
  cancelActive(): void {
    if (!this.activeId) return;
    this.discard(this.activeId);
    this.sink.send(realtimeOutbound.responseCancel(this.activeId));
  }

  onCreated(response: { id: string; metadata?: Record<string, string> | null }): void {
    this.activeId = response.id;
    const awaiting = this.awaiting;
    if (!awaiting) return;
    const tag = response.metadata?.[REQUEST_KEY];
    if (tag !== undefined && tag !== awaiting.id) return;
    const claim = this.claim;
    if (tag !== undefined) {
      this.echoes = true;
      this.guess = undefined;
    } else if (this.echoes || response.metadata) {
      // OpenAI echoes a request's metadata: untagged, this is the server's own (VAD) response.
      return;
    } else {
      // A server that has not echoed our tag yet (a first request, a minimal fake): the oldest of
      // ours is the best guess, taken back if an error says that request collided (onError).
      this.guess = { responseId: response.id, sent: awaiting, claim };
    }
    this.awaiting = undefined;
    this.requests.set(response.id, awaiting.request);
    awaiting.request.onCreated?.(response.id);
    this.claim = undefined;
    claim?.(response.id);
    if (awaiting.spokenOver && tag !== undefined) this.cancelActive();
  }

  /**
   * `response.done`. `giveUp` is called when responses keep failing (one failed again after its
   * retry): the call cannot go on with the assistant.
   */
  onDone(response: RealtimeResponse, giveUp: (reason: string) => void): void {
    this.activeUnseen = false;
    const cutOff = this.discarded.delete(response.id);
    if (this.guess?.responseId === response.id) this.guess = undefined;
    if (this.activeId === response.id) this.activeId = undefined;
    const request = this.requests.get(response.id);
    this.requests.delete(response.id);
    const details = response.status_details ?? {};
    if (response.status === 'failed') this.failed(response.id, request, details, giveUp, cutOff);
    else if (response.status === 'incomplete') this.incomplete(response.id, request, details);
    else this.log.debug(() => `response ${response.id} ${response.status ?? 'done'}`);
    this.flush();
  }

  /**
   * An `error` event. Returns true when it was about our `response.create` colliding with an
   * active response: the request goes back to the front of the queue.
   */
  onError(error: RealtimeErrorDetail): boolean {
    if (this.guessedWrong(error)) return true;
    const awaiting = this.awaiting;
    if (!awaiting || error.event_id !== awaiting.eventId) return false;
    this.awaiting = undefined;
    if (error.code === 'conversation_already_has_active_response') {
      if (this.activeId === undefined) this.activeUnseen = true;
      this.queue.unshift(awaiting.request);
    } else {
      this.log.warn(
        `response.create (${awaiting.request.reason}) refused: ${error.code ?? error.message ?? 'error'}`,
      );
    }
    this.flush();
    return true;
  }

  /**
   * The untagged response taken for our request was the server's own: our request collided with
   * it. The request (and a claim it carried) waits again, at the front.
   */
  private guessedWrong(error: RealtimeErrorDetail): boolean {
    const guess = this.guess;
    if (!guess || error.event_id !== guess.sent.eventId) return false;
    this.guess = undefined;
    if (error.code !== 'conversation_already_has_active_response') return false;
    this.requests.delete(guess.responseId);
    this.claim ??= guess.claim;
    this.queue.unshift(guess.sent.request);
    this.log.debug(() => `response ${guess.responseId} was the server's own; asking again`);
    this.flush();
    return true;
  }

  /** The session was replaced: what was active is gone; waiting requests go to the new one. */
  reset(): void {
    this.guess = undefined;
    this.activeId = undefined;
    this.activeUnseen = false;
    if (this.awaiting) this.queue.unshift(this.awaiting.request);
    this.awaiting = undefined;
    this.requests.clear();
    this.discarded.clear();
  }

  /** Sends the next waiting request if nothing is active and the session is open. */
  flush(): void {
    if (this.busy || this.queue.length === 0 || !this.sink.isOpen) return;
    const request = this.queue.shift()!;
    const id = `r${++this.sequence}`;
    const eventId = this.sink.send(
      realtimeOutbound.responseCreate({ ...request.params, metadata: { [REQUEST_KEY]: id } }),
    );
    this.awaiting = { id, request, eventId };
    this.log.debug(() => `response.create (${request.reason})`);
  }

  private failed(
    id: string,
    request: ResponseRequest | undefined,
    details: Record<string, unknown>,
    giveUp: (reason: string) => void,
    interrupted: boolean,
  ): void {
    const error = isObject(details.error) ? details.error : {};
    const reason = text(error.code) ?? text(error.type) ?? 'unknown';
    this.metrics.responseProblem('failed', reason);
    const what = `response ${id} failed (${reason}${text(error.message) ? `: ${text(error.message)}` : ''})`;
    // Asked again, it would replay what the caller stopped.
    if (interrupted) return this.log.warn(`${what} after the caller interrupted it; not retried`);
    if (request?.retried) {
      this.log.warn(`${what} again after a retry; handing the caller to the fallback`);
      giveUp(`${what} twice`);
      return;
    }
    this.log.warn(`${what}; retrying once`);
    this.queue.unshift({ ...(request ?? { reason: 'server response' }), retried: true });
  }

  private incomplete(
    id: string,
    request: ResponseRequest | undefined,
    details: Record<string, unknown>,
  ): void {
    const reason = text(details.reason) ?? 'unknown';
    this.metrics.responseProblem('incomplete', reason);
    if (request?.recovery) {
      this.log.warn(`response ${id} incomplete (${reason}), and it was the recovery sentence`);
      return;
    }
    this.log.warn(`response ${id} incomplete (${reason}); the assistant says a recovery sentence`);
    this.queue.unshift({
      reason: 'recovery',
      params: { instructions: sayExactlyInstructions(this.recoveryMessage) },
      recovery: true,
    });
  }
}
