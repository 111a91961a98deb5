import { Injectable, Scope } from '@nestjs/common';
import { realtimeOutbound } from '../realtime/realtime-outbound.js';
import { CallEnding } from '../call/call-ending.js';
import { CallRecorder } from '../call/call-recorder.js';
import { RealtimeLink } from './realtime-link.js';
import { ResponseScheduler } from '../call/response-scheduler.js';
import { TwilioMediaLink } from './twilio-media-link.js';
import { OperatorLine } from './operator-line.js';

/**
 * The caller interrupts the assistant, by speaking or by pressing a key: Twilio stops at once
 * (`clear`), each item still playing is truncated where the caller stopped hearing it (the
 * playback clock), and the rest of its response is dropped. An operator taking the line stops
 * the assistant the same way (`silence`). A per-call provider.
 */
@Injectable({ scope: Scope.REQUEST })
export class BargeIn {
  constructor(
    private readonly media: TwilioMediaLink,
    private readonly link: RealtimeLink,
    private readonly scheduler: ResponseScheduler,
    private readonly recorder: CallRecorder,
    private readonly ending: CallEnding,
    private readonly line: OperatorLine,
  ) {}

  /**
   * Only while assistant audio is still playing (outstanding marks, not response.done: Twilio may
   * hold seconds of audio after the model has finished), and never while an operator holds the
   * line: what plays then is the operator. `since` is when the caller began
   * (performance.now()), for the reaction metric.
   */
  interrupt(since: number, by: 'speech' | 'keypad'): void {
    if (this.line.held) return;
    if (!this.media.playback.isPlaying) {
      // Nothing of it is heard yet, but a response may be on its way: the server cancels it as the
      // caller speaks (interrupt_response), and its deltas already in flight must not play.
      const active = this.scheduler.activeResponseId;
      if (by === 'speech' && active) this.scheduler.discard(active);
      return;
    }
    this.recorder.stats.bargeIns++;
    this.cut(since, by);
    // The server cancels a response the caller talks over (interrupt_response); not a key press.
    if (by === 'keypad') this.scheduler.cancelActive();
    this.ending.finishIfPlayed();
  }

  /**
   * An operator takes the line: Twilio stops at once whether or not anything plays, what played
   * is truncated where the caller stopped hearing it, and a response in progress is cancelled.
   */
  silence(): void {
    this.cut(undefined, 'operator');
    this.scheduler.cancelActive();
  }

  private cut(since: number | undefined, by: 'speech' | 'keypad' | 'operator'): void {
    const { cuts } = this.media.interrupt(since);
    for (const cut of cuts) {
      this.scheduler.discard(cut.responseId);
      const truncate = realtimeOutbound.truncate(cut.itemId, cut.contentIndex, cut.audioEndMs);
      this.link.send(truncate, `${cut.itemId} at ${truncate.audio_end_ms} ms`);
      this.recorder.interrupted(cut, by);
    }
  }
}
