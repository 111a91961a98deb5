import { sessionOf, type CallSettings } from '../call/call-settings.service.js';
import { OpenAIRealtimeService } from '../realtime/openai-realtime.service.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import type { AudioConfig, OpenAIConfig } from '../config/config.namespaces.js';
import { Secret } from '../config/secret.js';
import { sipAcceptSession, sipSessionUpdate } from './sip-session.js';
import type { ModuleRef } from '@nestjs/core';
import { RealtimeCredentials } from '../realtime/realtime-credentials.service.js';

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
  connectDeadlineMs: 10000,
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

// OpenAI's key needs no module lookup (only Azure's Entra ID credential does).
const credentials = new RealtimeCredentials(openai, {} as ModuleRef);

describe('the session of each transport, from the same resolved settings', () => {
  const service = new OpenAIRealtimeService(
    openai,
    {
      inputFormat: 'pcm16',
      inputChunkMs: 0,
    } satisfies AudioConfig,
    credentials,
  );

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

describe('one resolved CallSettings, two transports', () => {
  const service = new OpenAIRealtimeService(
    openai,
    {
      inputFormat: 'g711_ulaw',
      inputChunkMs: 0,
    } satisfies AudioConfig,
    credentials,
  );
  const registry = new ToolRegistry();
  for (const name of ['lookup_order', 'refund', 'end_call']) {
    registry.register({ name, description: `does ${name}` }, () => ({ ok: true }));
  }
  // What a resolver chose for one caller, over the env's defaults.
  const resolved: CallSettings = {
    instructions: 'Greet Grace by name.',
    voice: 'marin',
    greeting: 'Hello Grace!',
    recoveryMessage: 'Sorry, say that again?',
    tools: ['lookup_order', 'end_call'],
    turnDetection: {
      type: 'server_vad',
      threshold: 0.7,
      prefix_padding_ms: 200,
      silence_duration_ms: 800,
      create_response: true,
      interrupt_response: true,
    },
    transcription: { model: 'gpt-4o-transcribe', language: 'de' },
  };

  it('gives the media session.update and the SIP accept the same choices, each in its shape', () => {
    const media = service.sessionUpdate(sessionOf(resolved, registry)).session;
    const sip = sipAcceptSession(service.session(sessionOf(resolved, registry)));

    const offered = ['lookup_order', 'end_call'];
    for (const session of [media, sip] as Array<Record<string, any>>) {
      expect(session.instructions).toBe('Greet Grace by name.');
      expect(session.audio.output.voice).toBe('marin');
      expect(session.audio.input.transcription).toEqual({
        model: 'gpt-4o-transcribe',
        language: 'de',
      });
      // Only the tools the resolver offered, on both transports.
      expect(session.tools.map((tool: { name: string }) => tool.name)).toEqual(offered);
    }
    // The media path takes the VAD tuning and its audio formats ...
    expect(media.audio?.input?.turn_detection).toEqual(resolved.turnDetection);
    expect(media.audio?.input?.format).toEqual({ type: 'audio/pcmu' });
    // ... the SIP accept refuses the tuning, and its leg negotiates the codec with the carrier.
    const sipAudio = sip.audio as {
      input: Record<string, unknown>;
      output: Record<string, unknown>;
    };
    expect(sipAudio.input.turn_detection).toEqual({
      type: 'server_vad',
      create_response: true,
      interrupt_response: true,
    });
    expect(sipAudio.input).not.toHaveProperty('format');
    expect(sipAudio.output).not.toHaveProperty('format');
  });

  it('switches turn detection and transcription off on both when the resolver chose null', () => {
    const off = { ...resolved, turnDetection: null, transcription: null };
    const media = service.sessionUpdate(sessionOf(off, registry)).session;
    const sip = sipAcceptSession(service.session(sessionOf(off, registry)));
    for (const session of [media, sip] as Array<Record<string, any>>) {
      expect(session.audio.input.turn_detection).toBeNull();
      expect(session.audio.input).not.toHaveProperty('transcription');
    }
  });
});

describe('updateSession on a SIP call', () => {
  it('sends the turn detection without the tuning the SIP path refuses, and leaves the rest', () => {
    const update = {
      instructions: 'Offer to cancel.',
      turnDetection: { type: 'server_vad' as const, threshold: 0.8, silence_duration_ms: 900 },
    };
    expect(sipSessionUpdate(update)).toEqual({
      instructions: 'Offer to cancel.',
      turnDetection: { type: 'server_vad' },
    });
    expect(update.turnDetection.threshold).toBe(0.8);
    expect(sipSessionUpdate({ turnDetection: null })).toEqual({ turnDetection: null });
  });
});
