import { Injectable, Scope } from '@nestjs/common';
import type { TurnDetection } from '../realtime/realtime-outbound.js';

/** Who holds a media call's line while an operator has taken it over. */
export interface LineHolder {
  /** The operator, as events and the call record name them: `console:<id>` or `api`. */
  readonly operator: string;
  /** When the operator took the line. */
  readonly since: Date;
}

/**
 * Whether a human operator holds this call's line (Takeover decides). While one does, the model
 * is not to be heard by the caller: its audio is dropped, a barge-in has nothing of its to cut
 * (and must not clear the operator's voice), and every Realtime session of the call, a
 * reconnected one too, is configured so that the caller's turns get no answer. A per-call
 * provider, read by the parts that would otherwise let the model speak.
 */
@Injectable({ scope: Scope.REQUEST })
export class OperatorLine {
  private current?: LineHolder;

  get holder(): LineHolder | undefined {
    return this.current;
  }

  get held(): boolean {
    return this.current !== undefined;
  }

  hold(holder: LineHolder): void {
    this.current = holder;
  }

  release(): LineHolder | undefined {
    const holder = this.current;
    this.current = undefined;
    return holder;
  }

  /**
   * The turn detection a session gets now: the call's own, except that while the line is held
   * the model neither answers a caller's turn nor cuts anything off by itself. Server VAD keeps
   * committing the caller's turns, so the model keeps the context and the transcript.
   */
  turnDetection(configured: TurnDetection): TurnDetection {
    if (!this.current || configured === null) return configured;
    return { ...configured, create_response: false, interrupt_response: false };
  }
}
