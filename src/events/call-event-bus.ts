import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { AnyCallEvent } from './call-events.js';

/**
 * Listeners the bridge's own bus may hold: one per SSE follower and per call, and many may
 * follow calls at once. (EventEmitter2 warns past its limit, it does not refuse.)
 */
export const MAX_CALL_EVENT_LISTENERS = 1000;

/**
 * The bridge's own channel for call events: the call recorder emits on it; the directory, the
 * console, the event history and the events webhook listen with `call.*`. Its own, so that the
 * wildcard it relies on does not depend on how the application configured its EventEmitter2
 * (if it has one at all); AppEventDelivery hands every event on to the application's
 * `@OnEvent` handlers.
 */
@Injectable()
export class CallEventBus extends EventEmitter2 {
  constructor() {
    super({ wildcard: true, delimiter: '.', maxListeners: MAX_CALL_EVENT_LISTENERS });
  }

  /**
   * Every call event to `handler`, a bridge part's own: a handler that throws is logged under
   * `owner`, never thrown into the call that emitted the event. Returns the unsubscribe.
   */
  follow(owner: string, handler: (event: AnyCallEvent) => void): () => void {
    const log = new Logger(owner);
    const listener = (event: AnyCallEvent) => {
      try {
        handler(event);
      } catch (error) {
        log.error(`call event ${event.event}: ${(error as Error).message}`, (error as Error).stack);
      }
    };
    this.on('call.*', listener);
    return () => this.off('call.*', listener);
  }
}
