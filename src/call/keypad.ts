import { Inject, Injectable, Scope } from '@nestjs/common';
import { callControlConfig, type CallControlConfig } from '../config/config.namespaces.js';
import { realtimeOutbound } from '../realtime/realtime-outbound.js';
import { CallRecorder } from './call-recorder.js';
import { CallScope } from './call-scope.js';
import { DtmfRelay } from './dtmf-relay.js';
import {
  CALL_BARGE_IN,
  CALL_CHANNEL,
  type CallBargeIn,
  type CallChannel,
} from './call-transport.js';
import { ResponseScheduler } from './response-scheduler.js';

/**
 * The caller's key presses: each one interrupts the assistant like speech (DTMF_INTERRUPTS), and
 * the digits go to the model as one text turn once the caller stops typing (DTMF_TO_MODEL).
 * A per-call provider on both transports (Twilio `dtmf` frames; the SIP sideband's
 * `input_audio_buffer.dtmf_event_received`).
 */
@Injectable({ scope: Scope.REQUEST })
export class Keypad {
  private readonly relay?: DtmfRelay;
  private readonly interrupts: boolean;

  constructor(
    @Inject(CALL_BARGE_IN) private readonly bargeIn: CallBargeIn,
    private readonly recorder: CallRecorder,
    @Inject(CALL_CHANNEL) private readonly link: CallChannel,
    private readonly scheduler: ResponseScheduler,
    @Inject(callControlConfig.KEY) config: CallControlConfig,
    /** The relay's timer runs in it: a throw ends this call only. */
    private readonly scope: CallScope,
  ) {
    this.interrupts = config.dtmfInterrupts;
    if (config.dtmfToModel) this.relay = new DtmfRelay((text) => this.scope.run(this.tell, text));
  }

  press(digit: string): void {
    this.recorder.dtmf(digit);
    if (this.interrupts) this.bargeIn.interrupt(performance.now(), 'keypad');
    this.relay?.press(digit);
  }

  dispose(): void {
    this.relay?.dispose();
  }

  /** The digits, as text for the model, answered once it is free. */
  private readonly tell = (text: string): void => {
    const id = this.recorder.memory.addKeypad(text);
    this.link.send(realtimeOutbound.userText(text, id));
    this.scheduler.request({ reason: 'keypad' });
  };
}
