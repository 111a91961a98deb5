import { Inject, Injectable, Scope } from '@nestjs/common';
import { MULAW_BYTES_PER_MS } from '../audio/mulaw.js';
import { PCM16_24K_BYTES_PER_MS } from '../audio/resampler.js';
import { audioConfig, type AudioConfig } from '../config/config.namespaces.js';
import { BridgeMetrics } from '../metrics/bridge-metrics.service.js';
import { OpenAIRealtimeService } from '../realtime/openai-realtime.service.js';
import type { RealtimeCloseInfo, RealtimeConnection } from '../realtime/realtime-connection.js';
import { classifyConnectFailure } from '../realtime/realtime-failures.js';
import { RealtimeHealth } from '../realtime/realtime-health.service.js';
import {
  RealtimeEventIds,
  realtimeOutbound,
  type RealtimeClientEvent,
} from '../realtime/realtime-outbound.js';
import { CallLogger } from '../call/call-logger.js';
import { CALL_SETTINGS } from '../call/call-providers.js';
import type { CallSettings } from '../call/call-settings.service.js';
import { CallScope } from '../call/call-scope.js';
import { InputAudioChunker } from './input-audio-chunker.js';
import { RealtimeLinkEvents } from '../call/link-events.js';
import { ReconnectPolicy } from '../call/reconnect-policy.js';
import { TWILIO_FRAME_MS } from '../twilio/media-stream.messages.js';

/** Caller audio held while the Realtime session (re)opens: 5 s of 20 ms frames, oldest dropped. */
const MAX_HELD_FRAMES = 250;
/** Bytes per millisecond of caller audio in each input format. */
const INPUT_BYTES_PER_MS = {
  g711_ulaw: MULAW_BYTES_PER_MS,
  pcm16: PCM16_24K_BYTES_PER_MS,
} as const;
/**
 * A chunk waits at most this long past its length for the frame that completes it: frames come
 * every 20 ms, so while they flow the size sends each chunk and this timer never fires; it only
 * sends the tail when the caller's frames stop.
 */
const CHUNK_GRACE_MS = 20;

type LinkState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * One call's link to the Realtime API, across connections: connects with bounded retries and
 * backoff (network errors, timeouts, 429, 5xx), fails at once on a refused key, replaces a lost
 * session while the caller stays on the line, and holds the caller's audio while no session is
 * open. Reconnects have memory (ReconnectPolicy): a session that drops (or expires) soon after it
 * opened is a failed attempt, not a fresh loss, so an upstream that accepts and resets every
 * connection gets a bounded, spaced-out handful of them and then the call's fallback.
 *
 * Every client event leaves through here, built by realtimeOutbound and stamped with an
 * `event_id`, so an `error` that names one can be told apart (describeEvent). A per-call provider.
 */
@Injectable({ scope: Scope.REQUEST })
export class RealtimeLink {
  private state: LinkState = 'connecting';
  private connection?: RealtimeConnection;
  private readonly policy: ReconnectPolicy;
  private reconnectStartedAt = 0;
  private retryTimer?: NodeJS.Timeout;
  private readonly held: string[] = [];
  private heldDropped = 0;
  /** Undefined when INPUT_AUDIO_CHUNK_MS is 0 (or up to 20): every frame is its own append. */
  private readonly chunker?: InputAudioChunker;
  private chunkTimer?: NodeJS.Timeout;
  private readonly ids = new RealtimeEventIds();

  constructor(
    private readonly service: OpenAIRealtimeService,
    private readonly health: RealtimeHealth,
    private readonly metrics: BridgeMetrics,
    private readonly log: CallLogger,
    @Inject(audioConfig.KEY) private readonly audio: AudioConfig,
    /** Every callback runs in it: a throw ends this call only. */
    private readonly scope: CallScope,
    private readonly events: RealtimeLinkEvents,
    /** Its deployment (Azure mode) is read at each connect. */
    @Inject(CALL_SETTINGS) private readonly settings: Pick<CallSettings, 'deployment'>,
  ) {
    this.policy = new ReconnectPolicy(service.connectDeadlineMs);
    if (audio.inputChunkMs > TWILIO_FRAME_MS) {
      this.chunker = new InputAudioChunker(
        audio.inputChunkMs * INPUT_BYTES_PER_MS[audio.inputFormat],
        (chunk) => this.connection?.appendAudio(this.appendJson(chunk)),
      );
    }
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Caller audio dropped: held too long, or not taken by a slow OpenAI socket. */
  get droppedAudioFrames(): number {
    return this.heldDropped + (this.connection?.droppedAudioFrames ?? 0);
  }

  /** Opens the first session (in the call's scope: the socket carries the call with it). */
  start(): void {
    this.connect();
  }

  /** Connections opened in the current episode (the first connect, or since the last loss). */
  get attempts(): number {
    return this.policy.attempts;
  }

  /**
   * Sends a client event while a session is open; returns its `event_id` ('' if not sent).
   * `detail` is what an error naming the event will say about it (e.g. the item a truncate cut).
   */
  send(event: RealtimeClientEvent, detail?: string): string {
    if (this.state !== 'open' || !this.connection) return '';
    // Audio the caller spoke before this event reaches OpenAI before it.
    this.chunker?.flush();
    const json = this.ids.stamp(event, detail);
    this.connection.sendRaw(json);
    return event.event_id ?? '';
  }

  /** What an `error` naming this `event_id` was about. */
  describeEvent(eventId: string): string {
    return this.ids.describe(eventId);
  }

  /** Caller audio, already in the session's input format. */
  appendAudio(audio: string): void {
    if (this.state === 'open') {
      if (!this.chunker) this.connection?.appendAudio(this.appendJson(audio));
      else if (this.chunker.add(audio)) this.armChunkTimer();
      return;
    }
    // Connecting or reconnecting: keep the audio so the caller's words are not lost.
    if (this.state !== 'closed') this.hold(audio);
  }

  /**
   * The session is gone (socket lost, or its 60-minute limit): open a new one while the caller's
   * socket stays open, at once after a session that was up a good while, after a growing backoff
   * when sessions keep dying young, and not at all once the episode's attempts are used up.
   */
  reconnect(why = 'the session was lost'): void {
    if (this.state === 'closed') return;
    // The part-chunk is the caller's latest audio: held, it reaches the next session after its
    // session.update, in order with what the caller says meanwhile.
    const partial = this.chunker?.take();
    if (partial !== undefined) this.hold(partial);
    const previous = this.connection;
    this.connection = undefined;
    previous?.close('replacing the session');
    const delay = this.policy.next(Date.now());
    if (delay === undefined) {
      this.fail(
        `OpenAI Realtime sessions keep ending soon after they open (${why}); gave up after ${this.policy.attempts} connections in ${this.policy.elapsed(Date.now())} ms`,
      );
      return;
    }
    if (this.state !== 'reconnecting') {
      this.state = 'reconnecting';
      this.reconnectStartedAt = Date.now();
      this.events.to.onReconnecting();
    }
    clearTimeout(this.retryTimer);
    if (delay === 0) this.connect();
    else this.retryTimer = setTimeout(() => this.scope.run(() => this.connect()), delay);
  }

  close(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    clearTimeout(this.chunkTimer);
    this.chunker?.clear();
    this.held.length = 0;
    this.connection?.close(reason);
  }

  private connect(): void {
    if (this.state === 'closed') return;
    const timeoutMs = this.policy.connecting(Date.now(), this.service.connectTimeoutMs);
    const connection: RealtimeConnection = this.service.connect(
      {
        onOpen: () => this.scope.run(() => connection === this.connection && this.onOpen()),
        onEvent: (event) =>
          this.scope.run(() => connection === this.connection && this.events.to.onEvent(event)),
        // The call logger caps warnings per call: a stream of bad events cannot flood the logs.
        onInvalidEvent: (reason) =>
          this.scope.run(() => this.log.warn(`dropped invalid OpenAI event: ${reason}`)),
        onClose: (info) =>
          this.scope.run(() => connection === this.connection && this.onClose(info)),
      },
      timeoutMs,
      this.settings.deployment,
    );
    this.connection = connection;
  }

  private onOpen(): void {
    if (this.state !== 'connecting' && this.state !== 'reconnecting') return;
    const reconnected = this.state === 'reconnecting';
    this.state = 'open';
    this.policy.opened(Date.now());
    this.health.connected();
    if (reconnected) {
      this.metrics.reconnected();
      this.log.log(`OpenAI Realtime reconnected in ${Date.now() - this.reconnectStartedAt} ms`);
    } else {
      this.log.log('OpenAI Realtime connected');
    }
    this.events.to.onOpen(reconnected);
    this.releaseHeldAudio();
  }

  /**
   * Sends the caller audio held while no session was open (the session set up says when: a new
   * session hears it after the conversation so far, before it is asked to answer). It is late
   * already: it leaves at once, in as few appends as the chunks allow.
   */
  releaseHeldAudio(): void {
    if (this.state !== 'open') return;
    for (const audio of this.held) {
      if (this.chunker) this.chunker.add(audio);
      else this.connection?.appendAudio(this.appendJson(audio));
    }
    this.chunker?.flush();
    this.held.length = 0;
  }

  /** Keeps caller audio for the next session, the oldest dropped past MAX_HELD_FRAMES. */
  private hold(audio: string): void {
    if (this.held.push(audio) > MAX_HELD_FRAMES) {
      this.held.shift();
      this.heldDropped++;
    }
  }

  /** Sends a chunk's tail if the frames that would complete it stop coming. */
  private armChunkTimer(): void {
    if (this.chunkTimer) {
      this.chunkTimer.refresh();
      return;
    }
    this.chunkTimer = setTimeout(
      () => this.scope.run(() => this.state === 'open' && this.chunker?.flush()),
      this.audio.inputChunkMs + CHUNK_GRACE_MS,
    );
    this.chunkTimer.unref();
  }

  private onClose(info: RealtimeCloseInfo): void {
    if (info.byUs) {
      this.log.log('OpenAI Realtime disconnected');
      return;
    }
    if (this.state === 'closed') return;
    const detail = describeClose(info);
    if (info.wasOpen) {
      this.log.warn(`OpenAI Realtime socket closed mid-call (${detail}); reconnecting`);
      this.reconnect(`socket closed: ${detail}`);
      return;
    }
    const kind = classifyConnectFailure(info);
    this.metrics.openaiError(
      info.httpStatus ? `connect_http_${info.httpStatus}` : 'connect_failed',
    );
    const credentials = this.service.credentials;
    if (kind === 'credential') return this.fail(credentials.noToken(info.credentialError ?? ''));
    if (kind === 'auth') {
      this.health.rejectedKey(info.httpStatus ?? 0);
      return this.fail(credentials.refused(info.httpStatus));
    }
    const missing = info.httpStatus === 404 && this.service.notFound(this.settings.deployment);
    if (missing) return this.fail(missing);
    const attempt = this.policy.attempts;
    const delay = kind === 'retryable' ? this.policy.next(Date.now()) : undefined;
    if (delay !== undefined) {
      this.log.warn(
        `OpenAI Realtime connection attempt ${attempt} failed (${detail}); retrying in ${delay} ms`,
      );
      this.retryTimer = setTimeout(() => this.scope.run(() => this.connect()), delay);
      return;
    }
    this.fail(
      `could not connect to OpenAI Realtime after ${attempt} attempts (${detail}) in ${this.policy.elapsed(Date.now())} ms`,
    );
  }

  private appendJson(audio: string): string {
    return realtimeOutbound.appendAudioJson(audio, this.ids.next('input_audio_buffer.append'));
  }

  private fail(reason: string): void {
    this.close(reason);
    this.events.to.onFailure(reason);
  }
}

function describeClose(info: RealtimeCloseInfo): string {
  if (info.credentialRenewed) return `HTTP ${info.httpStatus}, token dropped for a new one`;
  if (info.httpStatus) return `HTTP ${info.httpStatus}`;
  return `code ${info.code}${info.reason ? ` "${info.reason}"` : ''}${info.error ? `, ${info.error}` : ''}`;
}
