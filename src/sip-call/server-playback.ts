import { Inject, Injectable, Scope } from '@nestjs/common';
import { CallEnding } from '../call/call-ending.js';
import { CallLogger } from '../call/call-logger.js';
import { CallRecorder } from '../call/call-recorder.js';
import { CallScope } from '../call/call-scope.js';
import {
  CALL_CHANNEL,
  type CallBargeIn,
  type CallChannel,
  type CallPlayback,
} from '../call/call-transport.js';
import { ResponseScheduler } from '../call/response-scheduler.js';
import { SPOKEN_MARGIN_MS, spokenMs, spokenTextOf } from '../call/spoken-length.js';
import { realtimeOutbound } from '../realtime/realtime-outbound.js';
import type { RealtimeResponse } from '../realtime/realtime.events.js';

/** Responses remembered as heard, for a transcript that arrives after its audio was played. */
const MAX_HEARD_RESPONSES = 32;

interface Played {
  /** The assistant message items of the response (transcripts, `response.done`). */
  items: Set<string>;
  /** `output_audio_buffer.started` seen: its `stopped` (or `cleared`) ends it. */
  started: boolean;
  /** No output-audio events for it: its end is timed from its transcript. */
  estimate?: NodeJS.Timeout;
}

/**
 * The responses a SIP call's server is playing (or is taken to be playing), kept by
 * ServerPlayback: the call's CALL_PLAYBACK, which the wrap-up waits for. Apart from
 * ServerPlayback because the wrap-up (CallEnding) reads it and ServerPlayback tells the wrap-up
 * when playback ends. A per-call provider.
 */
@Injectable({ scope: Scope.REQUEST })
export class ServerPlaybackState implements CallPlayback {
  readonly responses = new Map<string, Played>();

  get isPlaying(): boolean {
    for (const played of this.responses.values()) {
      if (played.started || played.estimate) return true;
    }
    return false;
  }
}

/**
 * A SIP call's playback, as the server reports it: OpenAI plays the audio to the caller itself
 * and sends `output_audio_buffer.started` when it begins a response, `stopped` once all of it
 * has been sent, `cleared` when the caller interrupted it (then its own
 * `conversation.item.truncated` says where). This stands in for the media path's playback clock
 * (CALL_PLAYBACK: the wrap-up waits for it) and final marks (an assistant turn is heard when its
 * response's audio stopped). A response that gets no output-audio events by its `response.done`
 * is taken as playing for as long as its transcript takes to say. A key press interrupts
 * (CALL_BARGE_IN) by cancelling the response and clearing the server's buffer. A per-call provider.
 */
@Injectable({ scope: Scope.REQUEST })
export class ServerPlayback implements CallBargeIn {
  private readonly responses: Map<string, Played>;
  private readonly heard = new Set<string>();
  private keypadCut = false;

  constructor(
    private readonly state: ServerPlaybackState,
    private readonly recorder: CallRecorder,
    private readonly scheduler: ResponseScheduler,
    @Inject(CALL_CHANNEL) private readonly channel: CallChannel,
    /** Told when playback ends (stopped, cleared, estimated): a last sentence may be heard. */
    @Inject(CallEnding) private readonly ending: Pick<CallEnding, 'finishIfPlayed'>,
    /** The estimate's timer runs in it: a throw ends this call only. */
    @Inject(CallScope) private readonly scope: { run(action: () => void): void },
    private readonly log: CallLogger,
  ) {
    this.responses = state.responses;
  }

  get isPlaying(): boolean {
    return this.state.isPlaying;
  }

  started(responseId: string | undefined): void {
    this.recorder.assistantAudible();
    if (responseId) this.played(responseId).started = true;
  }

  /** All of the response's audio was sent to the caller: its turns were heard to the end. */
  stopped(responseId: string | undefined): void {
    if (!responseId) return;
    this.rememberHeard(responseId);
    const played = this.responses.get(responseId);
    for (const itemId of played?.items ?? []) this.recorder.memory.assistantHeard(itemId);
    this.end(responseId);
  }

  /** The caller interrupted: the server dropped the rest (its `truncated` says where). */
  cleared(responseId: string | undefined): void {
    this.recorder.stats.bargeIns++;
    if (responseId) this.end(responseId);
  }

  /** The server cut an assistant item at what the caller heard. */
  truncated(itemId: string, audioEndMs: number): void {
    this.recorder.interrupted({ itemId, audioEndMs }, this.keypadCut ? 'keypad' : 'speech');
    this.keypadCut = false;
  }

  transcript(itemId: string, responseId: string | undefined): void {
    if (!responseId) return;
    if (this.heard.has(responseId)) this.recorder.memory.assistantHeard(itemId);
    else this.played(responseId).items.add(itemId);
  }

  /** Call before the wrap-up looks at `isPlaying`: a silent server's response gets an estimate. */
  responseDone(response: RealtimeResponse): void {
    const played = this.responses.get(response.id);
    const items = assistantItemIds(response.output);
    if (played?.started || (!played && this.heard.has(response.id))) {
      for (const id of items) played?.items.add(id);
      return;
    }
    const words = spokenTextOf(response.output);
    if (!words) {
      this.end(response.id);
      return;
    }
    const entry = this.played(response.id);
    for (const id of items) entry.items.add(id);
    const ms = spokenMs(words) + SPOKEN_MARGIN_MS;
    this.log.debug(() => `no output-audio events for ${response.id}; heard in ~${ms} ms`);
    entry.estimate = setTimeout(() => this.scope.run(() => this.stopped(response.id)), ms);
  }

  /** A key press while the assistant speaks (DTMF_INTERRUPTS). */
  interrupt(_since: number, by: 'speech' | 'keypad'): void {
    if (!this.isPlaying) return;
    this.keypadCut = by === 'keypad';
    this.scheduler.cancelActive();
    this.channel.send(realtimeOutbound.outputAudioClear());
  }

  /**
   * What the server was playing is no longer known (the sideband dropped, and events with it; or
   * the call ended): nothing is taken as playing, so a wrap-up is not held up by a lost `stopped`.
   */
  reset(): void {
    for (const played of this.responses.values()) clearTimeout(played.estimate);
    this.responses.clear();
  }

  private played(responseId: string): Played {
    let played = this.responses.get(responseId);
    if (!played) {
      played = { items: new Set(), started: false };
      this.responses.set(responseId, played);
    }
    return played;
  }

  private end(responseId: string): void {
    clearTimeout(this.responses.get(responseId)?.estimate);
    this.responses.delete(responseId);
    this.ending.finishIfPlayed();
  }

  private rememberHeard(responseId: string): void {
    this.heard.add(responseId);
    if (this.heard.size > MAX_HEARD_RESPONSES) {
      this.heard.delete(this.heard.values().next().value as string);
    }
  }
}

/** Ids of the assistant messages among a response's output items. */
function assistantItemIds(output: readonly unknown[] | undefined): string[] {
  const ids: string[] = [];
  for (const item of output ?? []) {
    const { id, type, role } = item as { id?: unknown; type?: unknown; role?: unknown };
    if (
      typeof id === 'string' &&
      type === 'message' &&
      (role === undefined || role === 'assistant')
    )
      ids.push(id);
  }
  return ids;
}
