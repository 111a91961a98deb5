import { Inject, Injectable, Scope } from '@nestjs/common';
import { realtimeOutbound } from '../realtime/realtime-outbound.js';
import { withoutControlCharacters } from '../text/plain-text.js';
import { truncateText } from '../text/text-bound.js';
import { CALL_SETTINGS } from '../call/call-providers.js';
import { CallEnding } from '../call/call-ending.js';
import { CallRecorder } from '../call/call-recorder.js';
import { CallScope } from '../call/call-scope.js';
import type { CallSettings } from '../call/call-settings.service.js';
import { CallStart } from '../call/call-start.js';
import { BargeIn } from './barge-in.js';
import { OperatorLine, type LineHolder } from './operator-line.js';
import { RealtimeLink } from './realtime-link.js';
import { Takeovers } from './takeovers.service.js';
import { TwilioMediaLink } from './twilio-media-link.js';

/** The longest handback note passed to the model; a longer one is cut (with a marker). */
export const MAX_HANDBACK_NOTE_CHARS = 1000;
/**
 * Takeovers one call may have. Each is kept in the call's record and sent to OpenAI and to every
 * follower; a holder of the API token cycling take/hand back would otherwise grow all of that
 * without end (~1,000 cycles in 20 s). No operator needs this many.
 */
export const MAX_TAKEOVERS_PER_CALL = 100;

export type TakeoverAnswer = { ok: true } | { ok: false; reason: string };

/**
 * An operator takes a media call's line from the assistant and hands it back. Taking it stops
 * the assistant at once (BargeIn.silence: `clear`, truncate at what was heard, cancel), and
 * turns the session's own answers off (OperatorLine) while the session stays open and keeps
 * hearing the caller. Meanwhile only the holder's audio reaches the caller, never the model's
 * and never to the model. Handing back restores the call's turn detection and tells the model,
 * as a system message, that a human spoke with the caller meanwhile. The holder is whoever took
 * the line (a `key`: its listen socket); a second operator is refused until it is handed back.
 * A per-call provider, reachable by CallSid through Takeovers while the call runs.
 */
@Injectable({ scope: Scope.REQUEST })
export class Takeover {
  private holderKey?: object;
  private open = false;
  private taken = 0;
  private readonly callSid: string;

  constructor(
    start: CallStart,
    private readonly scope: CallScope,
    private readonly line: OperatorLine,
    private readonly bargeIn: BargeIn,
    private readonly link: RealtimeLink,
    private readonly media: TwilioMediaLink,
    private readonly recorder: CallRecorder,
    private readonly ending: CallEnding,
    private readonly takeovers: Takeovers,
    @Inject(CALL_SETTINGS) private readonly settings: CallSettings,
  ) {
    this.callSid = start.callSid;
  }

  /** The call began: operators may take its line. */
  begin(): void {
    this.open = true;
    this.takeovers.add(this.callSid, this);
  }

  /** The call ended: a line still held goes with it (the record says it was never handed back). */
  end(): void {
    this.open = false;
    this.takeovers.remove(this.callSid, this);
    this.holderKey = undefined;
    this.line.release();
  }

  get holder(): LineHolder | undefined {
    return this.line.holder;
  }

  /** True when `key` holds the line. */
  holds(key: object): boolean {
    return this.holderKey === key;
  }

  take(key: object, operator: string): TakeoverAnswer {
    if (!this.open) return { ok: false, reason: 'the call has ended' };
    if (this.holderKey === key) return { ok: true };
    if (this.line.held) return { ok: false, reason: 'another operator holds the line' };
    if (this.taken >= MAX_TAKEOVERS_PER_CALL) {
      return {
        ok: false,
        reason: `this call was taken over ${MAX_TAKEOVERS_PER_CALL} times already`,
      };
    }
    this.taken++;
    const since = new Date();
    this.holderKey = key;
    this.line.hold({ operator, since });
    this.scope.run(() => {
      this.bargeIn.silence();
      this.ending.yieldToOperator();
      this.sendTurnDetection();
      this.recorder.takeover(operator, since);
    });
    return { ok: true };
  }

  /** The holder's audio (base64 mu-law, 8 kHz) to the caller; false when `key` does not hold the line. */
  operatorAudio(key: object, payload: string): boolean {
    if (this.holderKey !== key || !this.open) return false;
    this.scope.run(this.playOperator, payload);
    return true;
  }

  handBack(key: object, note?: string): TakeoverAnswer {
    if (this.holderKey !== key || !this.open) {
      return { ok: false, reason: 'this socket does not hold the line' };
    }
    this.holderKey = undefined;
    const holder = this.line.release()!;
    const cleanNote = note === undefined ? undefined : cleanText(note);
    this.scope.run(() => {
      this.sendTurnDetection();
      // Remembered before it is sent: while OpenAI reconnects, send() drops it, and the new
      // session's re-seed carries it instead.
      const text = handbackMessage(holder.since, new Date(), cleanNote);
      this.link.send(realtimeOutbound.systemText(text, this.recorder.memory.addSystem(text)));
      this.recorder.handback(holder.operator, cleanNote);
    });
    return { ok: true };
  }

  private readonly playOperator = (payload: string): void => this.media.operatorAudio(payload);

  /** The session's turn detection as the line stands (none configured: nothing to change). */
  private sendTurnDetection(): void {
    const configured = this.settings.turnDetection;
    if (configured === null) return;
    const turnDetection = this.line.turnDetection(configured);
    this.link.send(realtimeOutbound.sessionChange({ turnDetection }));
  }
}

/** What the model is told when the line comes back to it. */
export function handbackMessage(from: Date, to: Date, note?: string): string {
  const time = (at: Date) => at.toISOString().slice(11, 19);
  const said = note ? ` The operator's note: ${note}` : '';
  return (
    `A human operator took over this call and spoke with the caller between ${time(from)} and ` +
    `${time(to)} UTC; you heard the caller but not the operator. The operator has handed the ` +
    `call back to you: answer the caller normally from their next turn.${said}`
  );
}

function cleanText(note: string): string | undefined {
  const text = truncateText(withoutControlCharacters(note).trim(), MAX_HANDBACK_NOTE_CHARS);
  return text.length > 0 ? text : undefined;
}
