import { OpenAIRealtimeService } from '../realtime/openai-realtime.service.js';
import type { AudioConfig, OpenAIConfig } from '../config/config.namespaces.js';
import { Secret } from '../config/secret.js';
import { sipAcceptSession } from './sip-session.js';

const openai = {
  apiKey: new Secret('sk-test'),
  realtimeUrl: 'wss://api.openai.com/v1/realtime',
  model: 'gpt-realtime',
  voice: 'alloy',
  instructions: 'default',
  greeting: undefined,
  turnDetection: 'server_vad',
  inputTranscriptionModel: 'gpt-4o-mini-transcribe',
  connectTimeoutMs: 5000,
  webhookSecret: undefined,
  apiBaseUrl: 'https://api.openai.com/v1',
} satisfies OpenAIConfig;

const settings = {
  instructions: 'You answer for the sales line.',
  voice: 'marin',
  tools: [
    {
      type: 'function' as const,
      name: 'lookup_order',
      description: 'Find an order',
      parameters: {},
    },
  ],
};

describe('the session of each transport, from the same resolved settings', () => {
  const service = new OpenAIRealtimeService(openai, { inputFormat: 'pcm16' } satisfies AudioConfig);

  it('is the media session without audio formats (the SIP leg has its own codec)', () => {
    const media = service.session(settings);
    const sip = sipAcceptSession(media);

    expect(media).toMatchObject({
      audio: {
        input: { format: { type: 'audio/pcm', rate: 24000 } },
        output: { format: { type: 'audio/pcmu' } },
      },
    });
    expect(sip).toEqual({
      type: 'realtime',
      model: 'gpt-realtime',
      instructions: 'You answer for the sales line.',
      output_modalities: ['audio'],
      audio: {
        input: {
          turn_detection: { type: 'server_vad', create_response: true, interrupt_response: true },
          transcription: { model: 'gpt-4o-mini-transcribe' },
        },
        output: { voice: 'marin' },
      },
      tools: settings.tools,
      tool_choice: 'auto',
    });
  });

  it('drops the turn-detection tuning the SIP path rejects, and keeps the rest', () => {
    const media = service.session(settings);
    const input = (media.audio as { input: Record<string, unknown> }).input;
    input.turn_detection = {
      type: 'server_vad',
      threshold: 0.6,
      prefix_padding_ms: 300,
      silence_duration_ms: 500,
      idle_timeout_ms: 8000,
      create_response: true,
      interrupt_response: true,
    };

    const sip = sipAcceptSession(media);

    expect((sip.audio as { input: Record<string, unknown> }).input.turn_detection).toEqual({
      type: 'server_vad',
      idle_timeout_ms: 8000,
      create_response: true,
      interrupt_response: true,
    });
    // The media session keeps its tuning: the SIP one is a copy.
    expect(input.turn_detection).toMatchObject({ threshold: 0.6, silence_duration_ms: 500 });
  });
});
