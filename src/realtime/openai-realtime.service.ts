import { Inject, Injectable } from '@nestjs/common';
import { audioConfig, openaiConfig } from '../config/config.namespaces.js';
import type { AudioConfig, OpenAIConfig } from '../config/config.namespaces.js';
import { RealtimeConnection, type RealtimeConnectionHandlers } from './realtime-connection.js';
import { RealtimeCredentials } from './realtime-credentials.service.js';
import {
  realtimeOutbound,
  type InputTranscription,
  type RealtimeTool,
  type TurnDetection,
} from './realtime-outbound.js';
import { TWILIO_FRAME_MS } from '../twilio/media-stream.messages.js';

/** One call's part of its session; turn detection and transcription default to the env's. */
export interface CallSession {
  instructions: string;
  voice: string;
  tools: RealtimeTool[];
  turnDetection?: TurnDetection;
  transcription?: InputTranscription;
  /** Azure mode: the call's deployment (default AZURE_OPENAI_DEPLOYMENT); ignored otherwise. */
  deployment?: string;
}

/** Caller audio held back while OpenAI does not read, past the socket's send buffer. */
const AUDIO_BACKLOG_MS = 1000;

/**
 * Opens Realtime connections and configures their sessions from the environment. The config's
 * format names (`pcm16`, `g711_ulaw`) are the beta API's; realtimeOutbound maps them to the GA
 * `audio/pcm` @ 24 kHz and `audio/pcmu`.
 */
@Injectable()
export class OpenAIRealtimeService {
  constructor(
    @Inject(openaiConfig.KEY) private readonly openai: OpenAIConfig,
    @Inject(audioConfig.KEY) private readonly audio: AudioConfig,
    /** Also what the call's link says when they fail. */
    readonly credentials: RealtimeCredentials,
  ) {}

  /**
   * `${OPENAI_REALTIME_URL}?model=${OPENAI_REALTIME_MODEL}`; in Azure mode the URL derived from
   * AZURE_OPENAI_ENDPOINT (or OPENAI_REALTIME_URL) with `model` = the call's deployment.
   */
  endpoint(deployment?: string): string {
    const url = new URL(this.openai.realtimeUrl);
    url.searchParams.set('model', this.modelFor(deployment));
    return url.toString();
  }

  /** What the session is opened with: OPENAI_REALTIME_MODEL, or on Azure the deployment's name. */
  modelFor(deployment?: string): string {
    const azure = this.openai.azure;
    return azure ? (deployment ?? azure.deployment) : this.openai.model;
  }

  /**
   * A call's failure when the upgrade got HTTP 404: on Azure the path is the bridge's own, so
   * what is missing is the deployment. Undefined outside Azure mode (the status says enough).
   */
  notFound(deployment?: string): string | undefined {
    if (!this.openai.azure) return undefined;
    const host = new URL(this.openai.realtimeUrl).host;
    return `Azure OpenAI refused the upgrade (HTTP 404): deployment '${this.modelFor(deployment)}' not found at ${host}: check AZURE_OPENAI_DEPLOYMENT`;
  }

  /** OPENAI_CONNECT_TIMEOUT_MS: the most one connection attempt may take. */
  get connectTimeoutMs(): number {
    return this.openai.connectTimeoutMs;
  }

  /** OPENAI_CONNECT_DEADLINE_MS: the most one connect episode may take, retries included. */
  get connectDeadlineMs(): number {
    return this.openai.connectDeadlineMs;
  }

  /**
   * Opens one connection, which must open within `timeoutMs` (the caller's share of its episode's
   * deadline; OPENAI_CONNECT_TIMEOUT_MS when not given), with fresh credentials each time (an
   * Entra ID token is renewed ahead of its expiry, so a reconnect never sends an expired one).
   */
  connect(
    handlers: RealtimeConnectionHandlers,
    timeoutMs?: number,
    deployment?: string,
  ): RealtimeConnection {
    return new RealtimeConnection(
      {
        url: this.endpoint(deployment),
        headers: this.credentials.headers(),
        renewsRefused: (status, headers) => this.credentials.renewsRefused(status, headers),
        credentialProblem: () => this.credentials.lastTokenError,
        connectTimeoutMs: timeoutMs ?? this.openai.connectTimeoutMs,
        // About 1 s of caller audio however it is chunked (INPUT_AUDIO_CHUNK_MS), so larger
        // appends do not stretch the backlog's bound.
        audioBacklogFrames: Math.ceil(
          AUDIO_BACKLOG_MS / Math.max(TWILIO_FRAME_MS, this.audio.inputChunkMs),
        ),
      },
      handlers,
    );
  }

  /** The session for one call (built by realtimeOutbound; the service only knows the config). */
  sessionUpdate(call: CallSession): ReturnType<typeof realtimeOutbound.sessionUpdate> {
    return realtimeOutbound.sessionUpdate({
      model: this.modelFor(call.deployment),
      instructions: call.instructions,
      voice: call.voice,
      inputFormat: this.audio.inputFormat,
      turnDetection: call.turnDetection !== undefined ? call.turnDetection : this.turnDetection,
      transcription: call.transcription !== undefined ? call.transcription : this.transcription,
      tools: call.tools,
    });
  }

  /**
   * TURN_DETECTION as a session's `turn_detection`. The server answers speech itself and cancels
   * its own response when the caller talks over it; the bridge still stops Twilio's playback and
   * truncates what was not heard.
   */
  get turnDetection(): TurnDetection {
    return { type: this.openai.turnDetection, create_response: true, interrupt_response: true };
  }

  /** INPUT_TRANSCRIPTION_MODEL as a session's `transcription` (`none`: null). */
  get transcription(): InputTranscription {
    const model = this.openai.inputTranscriptionModel;
    return model ? { model } : null;
  }

  /**
   * The session object alone: the SIP transport accepts its calls with one derived from it
   * (src/sip-call/sip-session.ts), so both transports are configured from the same settings.
   */
  session(call: CallSession) {
    return this.sessionUpdate(call).session;
  }
}
