import type { AnyCallEvent, CallEndedEvent, CallTranscriptEvent } from '../events/call-events.js';
import type { FakeRealtimeConnection, ScriptedToolCall } from './fake-realtime-connection.js';
import type { FakeTwilioRest } from './fake-twilio-rest.js';
import { callerFrames, FRAME_MS, modelAudio } from './test-audio.js';
import type { FakeTwilioCall } from './twilio-caller.js';
import { sleep, waitUntil } from './wait.js';

/** How long a scripted step waits for the bridge before it fails the test. */
export const STEP_TIMEOUT_MS = 5000;
/** The caller's speech when a script gives no length: about a short sentence. */
const DEFAULT_SPEECH_MS = 600;
/** Silence the caller leaves after speaking, as server VAD needs before it ends the turn. */
const TRAILING_SILENCE_MS = 200;

/** A turn of the call as the bridge reported it (`call.transcript`), without the call's ids. */
export type TranscriptLine = Pick<CallTranscriptEvent, 'role' | 'text' | 'interrupted'>;

/** How the call ended: its `call.ended` record, and where it was transferred if it was. */
export interface CallEnding {
  record: CallEndedEvent;
  /** The number the bridge transferred the call to (through Twilio's REST API), if it did. */
  transferredTo?: string;
}

/**
 * One phone call through the bridge under test, scripted step by step: Twilio's side is a real
 * Media Streams client (signed webhook, signed stream with its token, 20 ms mu-law frames in
 * real time, marks echoed as playback reaches them) and the model's side is the fake Realtime
 * model. Each step resolves once the bridge has done its part, so a test reads as the call goes.
 */
export class TestCall {
  /** Tool calls the model made in this call, with the outputs the bridge sent back. */
  readonly toolCalls: ScriptedToolCall[] = [];

  constructor(
    /** Twilio's side: frames received (`received`, `framesOf`), playback, `waitFor`. */
    readonly twilio: FakeTwilioCall,
    /** The model's side: every client event the bridge sent (`received`, `waitFor`). */
    readonly model: FakeRealtimeConnection,
    private readonly allEvents: () => AnyCallEvent[],
    private readonly rest: FakeTwilioRest,
  ) {}

  /** Twilio's CallSid of this call. */
  get callSid(): string {
    return this.twilio.callSid;
  }

  /**
   * The caller says `text`: `audioMs` of voice in real time, 20 ms frames, then the model's
   * server VAD and transcription report the turn with `text` as its transcript. Resolves when
   * the bridge has reported the caller's turn (`call.transcript`).
   */
  async callerSays(text: string, options: { audioMs?: number } = {}): Promise<void> {
    this.stillLive(`callerSays("${text}")`);
    const itemId = this.model.speechStarted();
    const audioMs = options.audioMs ?? DEFAULT_SPEECH_MS;
    await this.speak(audioMs);
    await sleep(TRAILING_SILENCE_MS);
    const turns = this.transcriptOf('caller').length;
    this.model.callerTurnEnded(itemId, text, audioMs);
    await waitUntil(
      () => this.transcriptOf('caller').length > turns,
      `the bridge to report the caller saying "${text}"`,
      STEP_TIMEOUT_MS,
      this.over,
    );
  }

  /**
   * The model calls tool `name` with `args` (as the Realtime API does: a function_call item in a
   * response, then response.done). Resolves with the output the bridge sent back to the model.
   */
  async modelCallsTool(name: string, args: unknown): Promise<ScriptedToolCall> {
    this.stillLive(`modelCallsTool("${name}")`);
    const call = await this.model.callTool(name, args, STEP_TIMEOUT_MS, this.over);
    this.toolCalls.push(call);
    return call;
  }

  /**
   * The model says `text`: `audioMs` of audio (in the format the bridge asked for), sent ahead of
   * real time as the API does, with `text` as its transcript. Resolves when the audio reaches
   * Twilio; Twilio then plays it in real time.
   */
  async modelSays(text: string, options: { audioMs?: number } = {}): Promise<void> {
    this.stillLive(`modelSays("${text}")`);
    const frames = this.twilio.framesOf('media').length;
    const audioMs = options.audioMs ?? Math.max(500, text.split(/\s+/).length * 250);
    this.model.speak(text, modelAudio(audioMs, this.model.outputFormat()));
    await waitUntil(
      () => this.twilio.framesOf('media').length > frames,
      'the model audio to reach Twilio',
      STEP_TIMEOUT_MS,
      this.over,
    );
  }

  /**
   * The caller talks over the model (barge-in) and says `text`. Resolves once the bridge has
   * stopped the playback at Twilio (`clear`) and cut the model's answer where the caller
   * stopped hearing it (`conversation.item.truncate`); returns the ms of the answer heard.
   */
  async interrupt(text = 'Sorry, one more thing', options: { audioMs?: number } = {}) {
    this.stillLive(`interrupt("${text}")`);
    const clears = this.twilio.framesOf('clear').length;
    const truncates = this.model.eventsOfType('conversation.item.truncate').length;
    const itemId = this.model.speechStarted();
    await waitUntil(
      () =>
        this.twilio.framesOf('clear').length > clears &&
        this.model.eventsOfType('conversation.item.truncate').length > truncates,
      'the bridge to stop the answer (clear to Twilio, truncate to the model)',
      STEP_TIMEOUT_MS,
      this.over,
    );
    const truncate = this.model.eventsOfType('conversation.item.truncate')[truncates];
    const audioMs = options.audioMs ?? DEFAULT_SPEECH_MS;
    await this.speak(audioMs);
    this.model.callerTurnEnded(itemId, text, audioMs);
    return { heardMs: truncate.audio_end_ms as number };
  }

  /** The caller hangs up (Twilio's `stop`, then the socket closes); resolves with the record. */
  async hangUp(): Promise<CallEnding> {
    this.twilio.stop();
    this.twilio.hangUp();
    return this.ended();
  }

  /** Waits for the end of the call, whoever ended it (the caller, a tool, a transfer, a limit). */
  async ended(timeoutMs = STEP_TIMEOUT_MS): Promise<CallEnding> {
    let record: CallEndedEvent | undefined;
    await waitUntil(
      () => {
        record = this.events().find((e): e is CallEndedEvent => e.event === 'call.ended');
        return record !== undefined;
      },
      `call ${this.callSid} to end`,
      timeoutMs,
    );
    const update = this.rest.requests.find(
      (r) => r.method === 'POST' && r.path.includes(`/Calls/${this.callSid}`),
    );
    const twiml = typeof update?.form.Twiml === 'string' ? update.form.Twiml : '';
    const dialled = /<Dial[^>]*>([^<]+)<\/Dial>/.exec(twiml)?.[1];
    return {
      record: record!,
      transferredTo: record!.outcome === 'transferred' ? dialled : undefined,
    };
  }

  /** The call.* events of this call so far, in order. */
  events(): AnyCallEvent[] {
    return this.allEvents().filter((event) => event.callSid === this.callSid);
  }

  /** The conversation so far as the bridge reported it, turn by turn. */
  transcript(): TranscriptLine[] {
    return this.events()
      .filter((e): e is CallTranscriptEvent => e.event === 'call.transcript')
      .map(({ role, text, interrupted }) =>
        interrupted ? { role, text, interrupted } : { role, text },
      );
  }

  /** A step on a call that has ended fails at once, saying so, instead of timing out. */
  private stillLive(step: string): void {
    const ended = this.endedRecord();
    if (ended) {
      throw new Error(
        `${step}: call ${this.callSid} has already ended (outcome ${ended.outcome}: ${ended.reason})`,
      );
    }
  }

  /**
   * Why a step under way can no longer succeed: the call ended (its record says how), or the
   * bridge closed the stream; the step then fails with that instead of a timeout.
   */
  private readonly over = (): string | undefined => {
    const ended = this.endedRecord();
    if (ended) return `call ${this.callSid} ended (outcome ${ended.outcome}: ${ended.reason})`;
    return this.twilio.closedByBridge();
  };

  private endedRecord(): CallEndedEvent | undefined {
    return this.events().find((e): e is CallEndedEvent => e.event === 'call.ended');
  }

  private transcriptOf(role: TranscriptLine['role']): TranscriptLine[] {
    return this.transcript().filter((line) => line.role === role);
  }

  /** `ms` of the caller's voice, one 20 ms frame every 20 ms, as Twilio streams it. */
  private async speak(ms: number): Promise<void> {
    const started = performance.now();
    const frames = callerFrames(ms);
    for (let i = 0; i < frames.length; i++) {
      this.twilio.sendMedia(frames[i]);
      // Paced on the clock, not per timer: timer drift does not add up over a long sentence.
      await sleep(Math.max(0, started + (i + 1) * FRAME_MS - performance.now()));
    }
  }
}
