import { Inject, Injectable, Scope } from '@nestjs/common';
import { realtimeOutbound } from '../realtime/realtime-outbound.js';
import { CALL_SETTINGS } from '../call/call-providers.js';
import type { CallSettings } from '../call/call-settings.service.js';
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
    @Inject(CALL_SETTINGS) private readonly settings: Pick<CallSettings, 'turnDetection'>,
  ) {}

  /**
   * Cuts what plays only while assistant audio is still playing (outstanding marks, not
   * response.done: Twilio may hold seconds of audio after the model has finished), and nothing
   * while an operator holds the line: what plays then is the operator. Speech also stops the
   * answer being generated. `since` is when the caller began (performance.now()), for the
   * reaction metric.
   */
  interrupt(since: number, by: 'speech' | 'keypad'): void {
    if (this.line.held) return;
    if (by === 'speech') this.stopAnswerSpokenOver();
    if (!this.media.playback.isPlaying) return;
    this.recorder.stats.bargeIns++;
    this.cut(since, by);
    // A key press over audio stops the answer too (over silence it is input: the keypad decides).
    if (by === 'keypad') this.scheduler.cancelActive();
    this.ending.finishIfPlayed();
  }

  /**
   * The response the server is generating as the caller speaks must not play, whether or not any
   * of it plays yet (a tool's answer may have been asked while an earlier one still played): its
   * deltas already in flight are dropped. The server cancels it itself (interrupt_response),
   * unless the call's turn detection says it must not; then the bridge cancels it, or it would
   * go on, unheard but in the model's context as said. One the bridge asked for that is not
   * created yet is stopped once it is.
   */
  private stopAnswerSpokenOver(): void {
    this.scheduler.stopOnCreate();
    const active = this.scheduler.activeResponseId;
    if (!active) return;
    if (this.settings.turnDetection?.interrupt_response === false) this.scheduler.cancelActive();
    else this.scheduler.discard(active);
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
