import { Inject, Injectable, Logger, Scope } from '@nestjs/common';
import WebSocket from 'ws';
import { AudioCodecService, type MulawToPcm24kConverter } from '../audio/audio-codec.service.js';
import { audioConfig } from '../config/config.namespaces.js';
import type { AudioConfig } from '../config/config.namespaces.js';
import { OpenAIRealtimeService } from '../realtime/openai-realtime.service.js';
import type { RealtimeCloseInfo, RealtimeConnection } from '../realtime/realtime-connection.js';
import type { RealtimeServerEvent } from '../realtime/realtime.events.js';
import { twilioOutbound, type TwilioInboundFrame } from '../twilio/media-stream.messages.js';
import { CallContext } from './call-context.js';
import { CallRegistry } from './call-registry.service.js';
import { PlaybackTracker } from './playback-tracker.js';

/** Caller audio kept while the Realtime session opens: 5 s of 20 ms frames, oldest dropped. */
const MAX_PENDING_FRAMES = 250;

export interface TranscriptTurn {
  role: 'caller' | 'assistant';
  text: string;
  at: Date;
}

type SessionState = 'new' | 'connecting' | 'live' | 'closed';

/**
 * One phone call: owns the caller's Twilio socket, the call's Realtime connection, the audio
 * converters and playback state, and frees all of it in `close()`.
 *
 * It is a request-scoped provider resolved once per call in its own DI context
 * (`ContextIdFactory.create()` + `moduleRef.resolve`, see CallSessionFactory) rather than built
 * by a factory function: that way any module can declare its own per-call providers and inject
 * this call's `CallContext`, with Nest creating them in the same sub-tree.
 */
@Injectable({ scope: Scope.REQUEST })
export class CallSession {
  private readonly log = new Logger(CallSession.name);
  private state: SessionState = 'new';
  private twilio?: WebSocket;
  private realtime?: RealtimeConnection;
  private readonly inbound?: MulawToPcm24kConverter;
  private readonly pendingAudio: string[] = [];
  private readonly playback = new PlaybackTracker();
  private readonly discardedResponses = new Set<string>();
  readonly transcript: TranscriptTurn[] = [];
  readonly stats = { framesIn: 0, framesOut: 0, framesDropped: 0, bargeIns: 0 };
  private endReason?: string;

  constructor(
    readonly context: CallContext,
    private readonly realtimeService: OpenAIRealtimeService,
    codec: AudioCodecService,
    private readonly registry: CallRegistry,
    @Inject(audioConfig.KEY) audio: AudioConfig,
  ) {
    // g711_ulaw: Twilio's payload goes to OpenAI untouched; pcm16: decoded and resampled.
    if (audio.inputFormat === 'pcm16') this.inbound = codec.createInboundConverter();
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Takes over the caller's socket and opens the Realtime session. */
  begin(twilio: WebSocket): void {
    if (this.state !== 'new') return;
    this.twilio = twilio;
    this.state = 'connecting';
    this.registry.add(this);
    this.log.log(`${this.tag} Twilio stream started`);
    this.realtime = this.realtimeService.connect({
      onOpen: () => this.guard(() => this.onRealtimeOpen()),
      onEvent: (event) => this.guard(() => this.onRealtimeEvent(event)),
      onInvalidEvent: (reason) =>
        this.log.warn(`${this.tag} dropped invalid OpenAI event: ${reason}`),
      onClose: (info) => this.guard(() => this.onRealtimeClose(info)),
    });
  }

  /** One validated frame from Twilio. */
  handleTwilioFrame(frame: TwilioInboundFrame): void {
    switch (frame.event) {
      case 'media':
        this.onCallerAudio(frame.media.payload);
        return;
      case 'mark':
        this.playback.acknowledge(frame.mark.name);
        return;
      case 'dtmf':
        this.log.debug(`${this.tag} DTMF ${frame.dtmf.digit}`);
        return;
      case 'stop':
        this.close('Twilio sent stop (caller hung up or call ended)');
        return;
      case 'connected':
      case 'start':
        this.drop(`unexpected ${frame.event} during the call`);
        return;
    }
  }

  /** Ends the call and frees everything it holds; safe to call more than once. */
  close(reason: string, level: 'log' | 'warn' = 'log'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.endReason = reason;
    this.realtime?.close(reason);
    if (this.twilio && this.twilio.readyState === WebSocket.OPEN)
      this.twilio.close(1000, 'call ended');
    this.pendingAudio.length = 0;
    this.registry.remove(this);
    const seconds = ((Date.now() - this.context.startedAt.getTime()) / 1000).toFixed(1);
    this.log[level](
      `${this.tag} call ended after ${seconds}s: ${reason} ` +
        `(frames in ${this.stats.framesIn}, out ${this.stats.framesOut}, dropped ${this.stats.framesDropped}, barge-ins ${this.stats.bargeIns})`,
    );
  }

  get reason(): string | undefined {
    return this.endReason;
  }

  private get tag(): string {
    return `[callSid=${this.context.callSid} streamSid=${this.context.streamSid}]`;
  }

  private onCallerAudio(payload: string): void {
    if (this.state === 'closed') return;
    this.stats.framesIn++;
    const audio = this.inbound ? this.inbound.convertBase64(payload) : payload;
    if (this.state === 'live') {
      this.realtime?.appendAudio(audio);
      return;
    }
    // Still connecting: keep the audio so the caller's first words are not lost.
    if (this.pendingAudio.push(audio) > MAX_PENDING_FRAMES) {
      this.pendingAudio.shift();
      this.stats.framesDropped++;
    }
  }

  private onRealtimeOpen(): void {
    if (!this.realtime || this.state !== 'connecting') return;
    this.log.log(`${this.tag} OpenAI Realtime connected`);
    // session.update goes first, so no audio is ever read in the wrong format.
    this.realtime.send(this.realtimeService.sessionUpdate(this.realtimeService.defaultSettings));
    const greeting = this.realtimeService.greeting;
    if (greeting) this.realtime.send(this.realtimeService.greetingResponse(greeting));
    for (const audio of this.pendingAudio) this.realtime.appendAudio(audio);
    this.pendingAudio.length = 0;
    this.state = 'live';
  }

  private onRealtimeEvent(event: RealtimeServerEvent): void {
    if (this.state === 'closed') return;
    switch (event.type) {
      case 'response.output_audio.delta':
        this.playAssistantAudio(event.response_id, event.item_id, event.content_index, event.delta);
        return;
      case 'response.output_audio.done': {
        if (this.discardedResponses.has(event.response_id)) return;
        const mark = this.playback.finished(event.item_id);
        if (mark) this.sendToTwilio(twilioOutbound.mark(this.context.streamSid, mark));
        return;
      }
      case 'input_audio_buffer.speech_started':
        this.onCallerStartedSpeaking();
        return;
      case 'response.done':
        this.discardedResponses.delete(event.response.id);
        this.log.debug(`${this.tag} response ${event.response.id} ${event.response.status ?? ''}`);
        return;
      case 'error':
        this.log.warn(
          `${this.tag} OpenAI error ${event.error.code ?? event.error.type ?? 'unknown'}: ${event.error.message ?? ''}`,
        );
        return;
      case 'conversation.item.input_audio_transcription.completed':
        this.addTranscript('caller', event.transcript);
        return;
      case 'response.output_audio_transcript.done':
        this.addTranscript('assistant', event.transcript);
        return;
      case 'session.created':
      case 'session.updated':
      case 'response.created':
      case 'input_audio_buffer.speech_stopped':
        this.log.debug(`${this.tag} OpenAI ${event.type}`);
        return;
      case 'other':
        this.log.debug(`${this.tag} OpenAI ${event.originalType}`);
        return;
    }
  }

  private playAssistantAudio(
    responseId: string,
    itemId: string,
    contentIndex: number,
    delta: string,
  ): void {
    // Deltas of a response the caller interrupted keep coming until its response.done.
    if (this.discardedResponses.has(responseId) || delta.length === 0) return;
    const streamSid = this.context.streamSid;
    this.sendToTwilio(twilioOutbound.media(streamSid, delta));
    const markName = this.playback.sent(
      itemId,
      responseId,
      contentIndex,
      base64ByteLength(delta) / 8,
    );
    this.sendToTwilio(twilioOutbound.mark(streamSid, markName));
    this.stats.framesOut++;
  }

  /**
   * Barge-in. Only while assistant audio is still playing (judged by unacknowledged marks, not
   * by response.done: Twilio may hold seconds of audio after the model has finished).
   */
  private onCallerStartedSpeaking(): void {
    if (!this.playback.isPlaying) return;
    this.stats.bargeIns++;
    this.sendToTwilio(twilioOutbound.clear(this.context.streamSid));
    for (const cut of this.playback.interrupt()) {
      this.discardedResponses.add(cut.responseId);
      this.realtime?.send({
        type: 'conversation.item.truncate',
        item_id: cut.itemId,
        content_index: cut.contentIndex,
        audio_end_ms: cut.audioEndMs,
      });
      this.log.debug(`${this.tag} barge-in: truncated ${cut.itemId} at ${cut.audioEndMs} ms`);
    }
  }

  private onRealtimeClose(info: RealtimeCloseInfo): void {
    if (info.byUs || this.state === 'closed') return;
    const detail = info.httpStatus
      ? `HTTP ${info.httpStatus}`
      : `code ${info.code}${info.reason ? ` "${info.reason}"` : ''}${info.error ? ` (${info.error})` : ''}`;
    const what = info.wasOpen
      ? 'OpenAI Realtime socket closed'
      : 'could not connect to OpenAI Realtime';
    this.close(`${what}: ${detail}`, 'warn');
  }

  private addTranscript(role: TranscriptTurn['role'], text: string): void {
    this.transcript.push({ role, text, at: new Date() });
    this.log.debug(`${this.tag} ${role}: ${text}`);
  }

  private sendToTwilio(text: string): void {
    if (this.twilio?.readyState === WebSocket.OPEN) this.twilio.send(text);
  }

  private drop(reason: string): void {
    this.stats.framesDropped++;
    this.log.warn(`${this.tag} dropped Twilio frame: ${reason}`);
  }

  /** A bug in one call's handling ends that call, never the process. */
  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.log.error(`${this.tag} internal error: ${(error as Error).stack ?? String(error)}`);
      this.close('internal error', 'warn');
    }
  }
}

/** Decoded size of a base64 string, without decoding it. */
export function base64ByteLength(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}
