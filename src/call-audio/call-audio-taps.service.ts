import { Injectable } from '@nestjs/common';
import type { CallAudioSubscriber } from './call-audio.js';
import type { CallAudioTap } from './call-audio-tap.js';

/**
 * Where the audio of media-stream calls can be heard, for the whole application: a subscriber
 * is asked at the start of every call whether it wants that call (a recording), and a live
 * call's tap can be found by its CallSid (an operator listening in). A call nobody hears costs
 * nothing beyond a lookup at its start.
 */
@Injectable()
export class CallAudioTaps {
  private readonly subscribers = new Set<CallAudioSubscriber>();
  private readonly live = new Map<string, CallAudioTap>();

  /** Every media-stream call from now on. Returns the unsubscribe. */
  subscribe(subscriber: CallAudioSubscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** The tap of a call running on this instance, if any. */
  tapOf(callSid: string): CallAudioTap | undefined {
    return this.live.get(callSid);
  }

  /** A call's tap begins: the subscribers decide whether they hear it. */
  started(tap: CallAudioTap): readonly CallAudioSubscriber[] {
    this.live.set(tap.call.callSid, tap);
    return [...this.subscribers];
  }

  ended(tap: CallAudioTap): void {
    if (this.live.get(tap.call.callSid) === tap) this.live.delete(tap.call.callSid);
  }
}
