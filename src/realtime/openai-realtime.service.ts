import { Inject, Injectable } from '@nestjs/common';
import { audioConfig, openaiConfig } from '../config/config.namespaces.js';
import type { AudioConfig, OpenAIConfig } from '../config/config.namespaces.js';
import { RealtimeConnection, type RealtimeConnectionHandlers } from './realtime-connection.js';

/** What a call may choose for its own Realtime session (later: per-call profiles and tools). */
export interface RealtimeSessionSettings {
  instructions: string;
  voice: string;
  tools?: Array<Record<string, unknown>>;
}

/**
 * Opens Realtime connections and speaks the GA session shape. The seed config mixed GA fields
 * with beta format names (`pcm16`, `g711_ulaw`); the GA API rejects those, so they are mapped
 * to `audio/pcm` @ 24 kHz and `audio/pcmu` here.
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

  sessionUpdate(settings: RealtimeSessionSettings): Record<string, unknown> {
    const input: Record<string, unknown> = {
      format:
        this.audio.inputFormat === 'pcm16'
          ? { type: 'audio/pcm', rate: 24000 }
          : { type: 'audio/pcmu' },
      turn_detection: {
        type: this.openai.turnDetection,
        create_response: true,
        interrupt_response: true,
      },
    };
    if (this.openai.inputTranscriptionModel) {
      input.transcription = { model: this.openai.inputTranscriptionModel };
    }
    const session: Record<string, unknown> = {
      type: 'realtime',
      model: this.openai.model,
      instructions: settings.instructions,
      output_modalities: ['audio'],
      // Output is always mu-law: Twilio plays it as is, so model audio needs no conversion.
      audio: { input, output: { format: { type: 'audio/pcmu' }, voice: settings.voice } },
    };
    if (settings.tools?.length) {
      session.tools = settings.tools;
      session.tool_choice = 'auto';
    }
    return { type: 'session.update', session };
  }

  /**
   * The conversation so far, as items for a new session (after a reconnect), so the model goes on
   * where it was instead of starting over.
   */
  transcriptItems(
    turns: ReadonlyArray<{ role: 'caller' | 'assistant' | 'tool'; text: string }>,
  ): Record<string, unknown>[] {
    return turns
      .filter((turn) => turn.role !== 'tool')
      .map((turn) => ({
        type: 'conversation.item.create',
        item:
          turn.role === 'caller'
            ? { type: 'message', role: 'user', content: [{ type: 'input_text', text: turn.text }] }
            : {
                type: 'message',
                role: 'assistant',
                content: [{ type: 'output_text', text: turn.text }],
              },
      }));
  }

  /** Makes the assistant speak first, with the operator's exact words. */
  greetingResponse(greeting: string): Record<string, unknown> {
    return {
      type: 'response.create',
      response: {
        instructions: `Greet the caller by saying exactly this, and nothing else: "${greeting}"`,
      },
    };
  }
}
