import { Inject, Injectable } from '@nestjs/common';
import { audioConfig, openaiConfig } from '../config/config.namespaces.js';
import type { AudioConfig, OpenAIConfig } from '../config/config.namespaces.js';
import { RealtimeConnection, type RealtimeConnectionHandlers } from './realtime-connection.js';
import {
  realtimeOutbound,
  type RealtimeTool,
  type SessionUpdateEvent,
} from './realtime-outbound.js';

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
  ) {}

  /** `${OPENAI_REALTIME_URL}?model=${OPENAI_REALTIME_MODEL}` */
  get endpoint(): string {
    const url = new URL(this.openai.realtimeUrl);
    url.searchParams.set('model', this.openai.model);
    return url.toString();
  }

  connect(handlers: RealtimeConnectionHandlers): RealtimeConnection {
    return new RealtimeConnection(
      {
        url: this.endpoint,
        apiKey: this.openai.apiKey.reveal(),
        connectTimeoutMs: this.openai.connectTimeoutMs,
      },
      handlers,
    );
  }

  /** The session for one call (built by realtimeOutbound; the service only knows the config). */
  sessionUpdate(call: {
    instructions: string;
    voice: string;
    tools: RealtimeTool[];
  }): SessionUpdateEvent {
    return realtimeOutbound.sessionUpdate({
      model: this.openai.model,
      instructions: call.instructions,
      voice: call.voice,
      inputFormat: this.audio.inputFormat,
      turnDetection: this.openai.turnDetection,
      transcriptionModel: this.openai.inputTranscriptionModel,
      tools: call.tools,
    });
  }

  /**
   * The session object alone: the SIP transport accepts its calls with one derived from it
   * (src/sip/sip-session.ts), so both transports are configured from the same settings.
   */
  session(call: { instructions: string; voice: string; tools: RealtimeTool[] }) {
    return this.sessionUpdate(call).session;
  }
}
