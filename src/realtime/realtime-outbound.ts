import type {
  AudioTranscription,
  ConversationItem,
  ConversationItemCreateEvent,
  ConversationItemTruncateEvent,
  InputAudioBufferAppendEvent,
  OutputAudioBufferClearEvent,
  RealtimeAudioInputTurnDetection,
  RealtimeClientEvent,
  RealtimeResponseCreateParams,
  RealtimeSessionCreateRequest,
  RealtimeToolsConfigUnion,
  ResponseCancelEvent,
  ResponseCreateEvent,
  SessionUpdateEvent,
} from 'openai/resources/realtime/realtime';

/**
 * Every client event the bridge sends to the Realtime API is built here, typed against the
 * `openai` package's own GA definitions (type-only imports: nothing of the package is loaded at
 * run time). An object literal typed so gets TypeScript's excess-property check, so a field
 * OpenAI does not define does not compile. Nothing else in the bridge writes Realtime JSON; a
 * unit test (realtime-outbound.spec.ts) scans the sources for event literals outside this file.
 */

export type { RealtimeClientEvent, SessionUpdateEvent };
export type RealtimeItem = ConversationItem;
export type RealtimeTool = RealtimeToolsConfigUnion;

export type RealtimeInputFormat = 'pcm16' | 'g711_ulaw';

/**
 * How the session finds the end of the caller's turn (GA `audio.input.turn_detection`):
 * `server_vad` or `semantic_vad` with their tuning; `null` switches it off, and then nothing
 * answers the caller's speech on its own.
 */
export type TurnDetection = RealtimeAudioInputTurnDetection | null;
/** Transcription of the caller's speech (GA `audio.input.transcription`); `null`: none. */
export type InputTranscription = AudioTranscription | null;

/** What one call's session is configured with. */
export interface SessionSettings {
  model: string;
  instructions: string;
  voice: string;
  inputFormat: RealtimeInputFormat;
  turnDetection: TurnDetection;
  transcription: InputTranscription;
  tools: RealtimeTool[];
}

/** The parts of a live session a call may change (`CallContext.updateSession`). */
export interface SessionChange {
  instructions?: string;
  turnDetection?: TurnDetection;
  tools?: RealtimeTool[];
}

function session(settings: SessionSettings): RealtimeSessionCreateRequest {
  const request: RealtimeSessionCreateRequest = {
    type: 'realtime',
    model: settings.model,
    instructions: settings.instructions,
    output_modalities: ['audio'],
    audio: {
      input: {
        format:
          settings.inputFormat === 'pcm16'
            ? { type: 'audio/pcm', rate: 24000 }
            : { type: 'audio/pcmu' },
        turn_detection: settings.turnDetection,
        ...(settings.transcription ? { transcription: settings.transcription } : {}),
      },
      // Output is always mu-law: Twilio plays it as is, so model audio needs no conversion.
      output: { format: { type: 'audio/pcmu' }, voice: settings.voice },
    },
  };
  if (settings.tools.length > 0) {
    request.tools = settings.tools;
    request.tool_choice = 'auto';
  }
  return request;
}

/** Content of a text message item, by role (assistant text must be `output_text`). */
function message(role: 'user' | 'assistant' | 'system', text: string, id?: string): RealtimeItem {
  const withId = id === undefined ? {} : { id };
  switch (role) {
    case 'user':
      return { ...withId, type: 'message', role, content: [{ type: 'input_text', text }] };
    case 'system':
      return { ...withId, type: 'message', role, content: [{ type: 'input_text', text }] };
    case 'assistant':
      return { ...withId, type: 'message', role, content: [{ type: 'output_text', text }] };
  }
}

export const realtimeOutbound = {
  /** The first event on every session: audio formats, voice, instructions, tools. */
  sessionUpdate: (
    settings: SessionSettings,
  ): SessionUpdateEvent & { session: RealtimeSessionCreateRequest } => ({
    type: 'session.update',
    session: session(settings),
  }),

  /**
   * A change to a live session. The API updates only the fields present, nested ones included
   * (`audio.input.turn_detection` alone leaves the input format as it is), so only the fields
   * given are sent. No voice: the API refuses to change it once the model has spoken.
   */
  sessionChange: (change: SessionChange): SessionUpdateEvent => {
    const session: RealtimeSessionCreateRequest = { type: 'realtime' };
    if (change.instructions !== undefined) session.instructions = change.instructions;
    if (change.turnDetection !== undefined) {
      session.audio = { input: { turn_detection: change.turnDetection } };
    }
    if (change.tools !== undefined) {
      session.tools = change.tools;
      session.tool_choice = change.tools.length > 0 ? 'auto' : 'none';
    }
    return { type: 'session.update', session };
  },

  /**
   * `input_audio_buffer.append`, written as a string: it is the one event sent per 20 ms frame,
   * so it skips an object and `JSON.stringify`. `base64` comes from a validated Twilio payload
   * or our own encoder, and `eventId` from RealtimeEventIds: neither can hold a quote. The spec
   * checks that it parses to an InputAudioBufferAppendEvent.
   */
  appendAudioJson: (base64: string, eventId: string): string =>
    `{"type":"input_audio_buffer.append","event_id":"${eventId}","audio":"${base64}"}`,

  /** The typed shape of appendAudioJson, for tests and for the rare caller that wants an object. */
  appendAudio: (audio: string): InputAudioBufferAppendEvent => ({
    type: 'input_audio_buffer.append',
    audio,
  }),

  createItem: (item: RealtimeItem, previousItemId?: string): ConversationItemCreateEvent => ({
    type: 'conversation.item.create',
    item,
    ...(previousItemId === undefined ? {} : { previous_item_id: previousItemId }),
  }),

  userText: (text: string, id?: string): ConversationItemCreateEvent =>
    realtimeOutbound.createItem(message('user', text, id)),

  assistantText: (text: string, id?: string): ConversationItemCreateEvent =>
    realtimeOutbound.createItem(message('assistant', text, id)),

  systemText: (text: string, id?: string): ConversationItemCreateEvent =>
    realtimeOutbound.createItem(message('system', text, id)),

  functionCall: (
    call: { callId: string; name: string; arguments: string },
    id?: string,
  ): ConversationItemCreateEvent =>
    realtimeOutbound.createItem({
      ...(id === undefined ? {} : { id }),
      type: 'function_call',
      call_id: call.callId,
      name: call.name,
      arguments: call.arguments,
    }),

  functionCallOutput: (callId: string, output: string, id?: string): ConversationItemCreateEvent =>
    realtimeOutbound.createItem({
      ...(id === undefined ? {} : { id }),
      type: 'function_call_output',
      call_id: callId,
      output,
    }),

  /**
   * Cuts an assistant item at what the caller heard. The API rejects `audio_end_ms` beyond the
   * audio it produced and wants an integer, so callers pass a value already capped.
   */
  truncate: (
    itemId: string,
    contentIndex: number,
    audioEndMs: number,
  ): ConversationItemTruncateEvent => ({
    type: 'conversation.item.truncate',
    item_id: itemId,
    content_index: contentIndex,
    audio_end_ms: Math.max(0, Math.floor(audioEndMs)),
  }),

  responseCreate: (response?: RealtimeResponseCreateParams): ResponseCreateEvent =>
    response === undefined ? { type: 'response.create' } : { type: 'response.create', response },

  responseCancel: (responseId?: string): ResponseCancelEvent =>
    responseId === undefined
      ? { type: 'response.cancel' }
      : { type: 'response.cancel', response_id: responseId },

  /**
   * SIP and WebRTC only: the server stops playing the audio it still holds for the caller (it
   * answers with `output_audio_buffer.cleared`, and truncates the item itself).
   */
  outputAudioClear: (): OutputAudioBufferClearEvent => ({ type: 'output_audio_buffer.clear' }),

  /** Makes the assistant say these exact words (a greeting, a recovery sentence). */
  sayExactly: (words: string): ResponseCreateEvent =>
    realtimeOutbound.responseCreate({ instructions: sayExactlyInstructions(words) }),
};

/** Response instructions that make the assistant say these exact words. */
export function sayExactlyInstructions(words: string): string {
  return `Say exactly this, and nothing else: "${words}"`;
}

/** Bound on the client events remembered for naming them in an `error` (a few seconds' worth). */
const REMEMBERED_EVENTS = 64;

/**
 * `event_id`s for one call's client events. Each id carries a short type tag and a counter
 * (`trunc-1f`), so an `error` that names one says what it was about even after the id left the
 * small memory of recent events kept for richer detail (the item a truncate was for).
 */
export class RealtimeEventIds {
  private sequence = 0;
  private readonly recent = new Map<string, string>();

  constructor(private readonly prefix = '') {}

  /** A fresh id for an event of this type; `detail` is shown if an error names it. */
  next(type: RealtimeClientEvent['type'], detail?: string): string {
    const id = `${this.prefix}${TYPE_TAGS[type]}-${(++this.sequence).toString(36)}`;
    if (detail !== undefined) {
      this.recent.set(id, detail);
      if (this.recent.size > REMEMBERED_EVENTS) {
        this.recent.delete(this.recent.keys().next().value as string);
      }
    }
    return id;
  }

  /** Stamps `event_id` on a built event and serialises it. */
  stamp(event: RealtimeClientEvent, detail?: string): string {
    event.event_id = this.next(event.type, detail);
    return JSON.stringify(event);
  }

  /** What an `error` naming this id was about, for the log line. */
  describe(eventId: string): string {
    const type = TAG_TYPES.get(eventId.slice(this.prefix.length).split('-')[0]);
    const detail = this.recent.get(eventId);
    return `${type ?? 'unknown event'} ${eventId}${detail ? ` (${detail})` : ''}`;
  }
}

const TYPE_TAGS: Record<RealtimeClientEvent['type'], string> = {
  'session.update': 'sess',
  'input_audio_buffer.append': 'a',
  'input_audio_buffer.commit': 'commit',
  'input_audio_buffer.clear': 'inclear',
  'output_audio_buffer.clear': 'outclear',
  'conversation.item.create': 'item',
  'conversation.item.retrieve': 'get',
  'conversation.item.truncate': 'trunc',
  'conversation.item.delete': 'del',
  'response.create': 'resp',
  'response.cancel': 'cancel',
};
const TAG_TYPES = new Map(Object.entries(TYPE_TAGS).map(([type, tag]) => [tag, type]));
