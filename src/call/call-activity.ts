import { energyToDbfs, mulawEnergy, SILENCE_DBFS } from '../audio/audio-level.js';
import { MULAW_BYTES_PER_MS } from '../audio/mulaw.js';
import { base64DecodedLength } from '../text/json-guards.js';
import type { RealtimeServerEvent } from '../realtime/realtime.events.js';

/** What a call is doing right now, as an operator sees it. */
export type CallActivityState = 'connecting' | 'talking' | 'assistant-speaking' | 'on-tool';

export interface CallActivityStatus {
  state: CallActivityState;
  /** Call start to the first assistant audio. */
  firstAudioMs?: number;
  /** End of the caller's speech to the first audio of the answer, per turn (latest last). */
  responseLatencyMs: number[];
  /** Tools the model called that have not answered yet. */
  pendingTools: number;
}

/** RMS dBFS of each side since the previous reading (SILENCE_DBFS when nothing was heard). */
export interface CallLevels {
  caller: number;
  assistant: number;
}

/** Per-turn latencies kept for the console (older turns are in the call record's average). */
const MAX_LATENCIES = 50;
/** Assistant chunks whose playout is tracked for the meter (~10 s of typical deltas). */
const MAX_PLAYOUT_CHUNKS = 64;
/** Mu-law bytes decoded per chunk for metering; a larger chunk is measured on its start. */
const METER_SCRATCH_BYTES = 16 * 1024;

interface PlayoutChunk {
  startMs: number;
  endMs: number;
  energy: number;
  samples: number;
}

/**
 * A cheap, read-only view of one call's activity for the operator console: state, audio levels of
 * both sides and per-turn latency. The session feeds it three things it already has (caller
 * frames, assistant deltas, Realtime events); everything else is derived here, so the session
 * keeps no console logic.
 *
 * Levels cost a base64 decode into a reused buffer and a table lookup per byte, so they are
 * measured only while someone watches (`metering`). The assistant's audio reaches us faster than
 * it plays, so its level is attributed to an estimated playout timeline (each chunk starts when
 * the previous one ends) and read as what the caller hears now, not what was just received.
 */
export class CallActivity {
  /** Set by the console while the call is watched; off, the audio hooks only count time. */
  metering = false;
  readonly responseLatencyMs: number[] = [];
  firstAudioMs?: number;
  /** The item of the latest assistant transcript, to mark a turn the caller interrupted. */
  lastAssistantItemId?: string;
  private readonly startedAt: number;
  private connected = false;
  private readonly pendingTools = new Set<string>();
  private playoutUntil = 0;
  private speechStoppedAt?: number;
  private callerEnergy = 0;
  private callerSamples = 0;
  private readonly playout: PlayoutChunk[] = [];
  private lastReadAt: number;
  private scratch?: Buffer;

  constructor(now = Date.now()) {
    this.startedAt = now;
    this.lastReadAt = now;
  }

  /** One caller frame (base64 mu-law), as Twilio sent it. */
  callerAudio(base64: string): void {
    if (!this.metering) return;
    const length = this.decode(base64);
    this.callerEnergy += mulawEnergy(this.scratch!, length);
    this.callerSamples += length;
  }

  /** One assistant delta (base64 mu-law) on its way to the caller. */
  assistantAudio(base64: string, now = Date.now()): void {
    if (this.firstAudioMs === undefined) this.firstAudioMs = now - this.startedAt;
    if (this.speechStoppedAt !== undefined) {
      this.responseLatencyMs.push(now - this.speechStoppedAt);
      if (this.responseLatencyMs.length > MAX_LATENCIES) this.responseLatencyMs.shift();
      this.speechStoppedAt = undefined;
    }
    const bytes = base64DecodedLength(base64);
    const startMs = Math.max(now, this.playoutUntil);
    this.playoutUntil = startMs + bytes / MULAW_BYTES_PER_MS;
    if (!this.metering) return;
    const length = this.decode(base64);
    this.playout.push({
      startMs,
      endMs: this.playoutUntil,
      energy: mulawEnergy(this.scratch!, length) * (bytes / Math.max(1, length)),
      samples: bytes,
    });
    if (this.playout.length > MAX_PLAYOUT_CHUNKS) this.playout.shift();
  }

  /** Every Realtime server event the call handles. */
  realtimeEvent(event: RealtimeServerEvent, now = Date.now()): void {
    switch (event.type) {
      case 'session.created':
      case 'session.updated':
        this.connected = true;
        return;
      case 'input_audio_buffer.speech_started':
        // The caller talks over the assistant: the session clears Twilio's buffer, so nothing
        // queued will play.
        this.playoutUntil = now;
        this.playout.length = 0;
        return;
      case 'input_audio_buffer.speech_stopped':
        this.speechStoppedAt = now;
        return;
      case 'response.output_audio_transcript.done':
        this.lastAssistantItemId = event.item_id;
        return;
      case 'response.function_call_arguments.done':
      case 'response.output_item.done':
        this.pendingTools.add(event.call_id);
        return;
      case 'response.output_audio.delta':
      case 'response.output_audio.done':
      case 'response.created':
      case 'response.done':
      case 'conversation.item.input_audio_transcription.completed':
      case 'conversation.item.input_audio_transcription.failed':
      case 'conversation.item.added':
      case 'conversation.item.created':
      case 'conversation.item.done':
      case 'conversation.item.truncated':
      case 'input_audio_buffer.committed':
      case 'input_audio_buffer.dtmf_event_received':
      case 'output_audio_buffer.started':
      case 'output_audio_buffer.stopped':
      case 'output_audio_buffer.cleared':
      case 'error':
      case 'other':
        return;
    }
  }

  /** A tool call answered (its output went to the model). */
  toolFinished(callId: string): void {
    this.pendingTools.delete(callId);
  }

  status(now = Date.now()): CallActivityStatus {
    return {
      state: this.stateAt(now),
      firstAudioMs: this.firstAudioMs,
      responseLatencyMs: [...this.responseLatencyMs],
      pendingTools: this.pendingTools.size,
    };
  }

  /** Levels since the previous reading (one reader: the console's sampler). */
  readLevels(now = Date.now()): CallLevels {
    const levels = { caller: SILENCE_DBFS, assistant: SILENCE_DBFS };
    if (this.metering) {
      levels.caller = energyToDbfs(this.callerEnergy, this.callerSamples);
      levels.assistant = this.assistantLevel(this.lastReadAt, now);
    }
    this.callerEnergy = 0;
    this.callerSamples = 0;
    this.lastReadAt = now;
    return levels;
  }

  private stateAt(now: number): CallActivityState {
    if (!this.connected) return 'connecting';
    if (this.pendingTools.size > 0) return 'on-tool';
    if (now < this.playoutUntil) return 'assistant-speaking';
    return 'talking';
  }

  /** RMS of the assistant audio scheduled to play within (from, to], by overlap. */
  private assistantLevel(from: number, to: number): number {
    let energy = 0;
    let samples = 0;
    for (const chunk of this.playout) {
      const overlap = Math.min(chunk.endMs, to) - Math.max(chunk.startMs, from);
      if (overlap <= 0) continue;
      const share = overlap / (chunk.endMs - chunk.startMs);
      energy += chunk.energy * share;
      samples += chunk.samples * share;
    }
    while (this.playout.length > 0 && this.playout[0].endMs <= to) this.playout.shift();
    // Silence fills the part of the window where nothing played.
    const windowSamples = Math.max(samples, (to - from) * MULAW_BYTES_PER_MS);
    return energyToDbfs(energy, windowSamples);
  }

  private decode(base64: string): number {
    this.scratch ??= Buffer.allocUnsafe(METER_SCRATCH_BYTES);
    return this.scratch.write(base64, 'base64');
  }
}
