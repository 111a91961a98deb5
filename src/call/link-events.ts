import { Injectable, Scope } from '@nestjs/common';
import type { RealtimeServerEvent } from '../realtime/realtime.events.js';

/**
 * Where a per-call link's events go. The link and the call's orchestrator need each other (the
 * orchestrator drives the link; the link reports to it), so neither can be injected into the
 * other: the link is injected with this per-call object and emits into it, and the orchestrator
 * listens from its own constructor, once. Both are whole from the moment they are built.
 */
export abstract class LinkEvents<L extends object> {
  private current?: L;

  listen(listener: L): void {
    if (this.current) throw new Error('a link has one listener');
    this.current = listener;
  }

  /** The listener; a link emits only once started, and its call listens before it can start. */
  get to(): L {
    if (!this.current) throw new Error('a link emitted before its call listened');
    return this.current;
  }
}

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

/** A media call's RealtimeLink events, for its CallOrchestrator. A per-call provider. */
@Injectable({ scope: Scope.REQUEST })
export class RealtimeLinkEvents extends LinkEvents<RealtimeLinkListener> {}
