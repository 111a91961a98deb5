import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import {
  assistantItemDone,
  assistantItemStarted,
  audioDelta,
  callerTurnEvents,
  contentAt,
  functionCallEvents,
  functionCallItem,
  responseCreated,
  responseDone,
  speechStarted,
  speechStopped,
  transcriptDelta,
  type RealtimeUsage,
} from '../../../src/testing/realtime-protocol.js';
import { rawDataToString } from '../../../src/websocket/raw-data.js';
import {
  bytesPerMs,
  concat,
  encodeOutput,
  InputDecoder,
  speakAsTones,
  tone,
  VoiceActivityDetector,
  type DemoAudioFormat,
} from './demo-audio.js';

/**
 * One Realtime session of the demo model: the GA protocol as OpenAI's server speaks it
 * (session.created / session.update / session.updated, server VAD on the caller's audio, input
 * transcription, response.* with audio and transcript, function calls, cancel, truncate, and
 * the errors the real server gives for misuse), with a "mind" small enough to read:
 *
 * - each caller turn gets a transcript that says how long the speech was (it hears sound, not
 *   words);
 * - if the session offers the tool `get_store_hours`, the model first calls it for today;
 * - then it answers: a sentence (as one tone per word) and the caller's own words played back.
 */

type Json = Record<string, unknown>;

export const DEMO_TOOL = 'get_store_hours';
/** Audio per delta, and how fast deltas go out: 4x real time, as the real API runs ahead. */
const DELTA_MS = 200;
const DELTA_EVERY_MS = 50;
const MIN_COMMIT_MS = 100;
const SESSION_LIFETIME_S = 3600;

interface SessionConfig {
  inputFormat: DemoAudioFormat;
  outputFormat: DemoAudioFormat;
  vad: {
    type: string;
    threshold: number;
    prefixPaddingMs: number;
    silenceDurationMs: number;
    createResponse: boolean;
    interruptResponse: boolean;
  } | null;
  transcriptionModel?: string;
  voice: string;
  instructions: string;
  tools: { name: string; description?: string }[];
}

interface ActiveResponse {
  id: string;
  itemId?: string;
  timer?: NodeJS.Timeout;
  transcript: string;
  spokenWords: number;
  audio?: Buffer;
  sentBytes: number;
  /** The caller audio this response answers, for its token usage. */
  inputMs: number;
}

/** Audio items the model produced: how much audio each has, for truncate's bound. */
interface SpokenItem {
  audioMs: number;
}

const id = (prefix: string) => `${prefix}_${randomBytes(9).toString('base64url')}`;

export class DemoSession {
  private readonly sessionId = id('sess');
  private config: SessionConfig = {
    inputFormat: 'audio/pcm',
    outputFormat: 'audio/pcm',
    vad: {
      type: 'server_vad',
      threshold: 0.5,
      prefixPaddingMs: 300,
      silenceDurationMs: 500,
      createResponse: true,
      interruptResponse: true,
    },
    voice: 'alloy',
    instructions: '',
    tools: [],
  };
  private decoder = new InputDecoder(this.config.inputFormat);
  private readonly vad = new VoiceActivityDetector(() => ({
    threshold: this.config.vad?.threshold ?? 0.5,
    prefixPaddingMs: this.config.vad?.prefixPaddingMs ?? 300,
    silenceDurationMs: this.config.vad?.silenceDurationMs ?? 500,
  }));
  /** Uncommitted input (8 kHz), for a manual commit. */
  private buffered: Int16Array[] = [];
  private bufferedSamples = 0;
  private currentSpeechItem?: string;
  private lastItemId: string | null = null;
  private readonly items = new Map<string, SpokenItem>();
  private readonly pendingCalls = new Map<string, string>(); // call_id -> tool name
  private lastUtterance: Int16Array = new Int16Array(0);
  private lastUserText?: string;
  private lastToolOutput?: { name: string; output: string };
  private calledToolForTurn = false;
  private active?: ActiveResponse;
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly model: string,
    private readonly note: (line: string) => void,
  ) {
    socket.on('message', (data, isBinary) => this.onMessage(rawDataToString(data), isBinary));
    socket.on('close', () => this.dispose());
    socket.on('error', () => this.dispose());
    this.send({ type: 'session.created', session: this.describeSession() });
  }

  // --- protocol plumbing ------------------------------------------------------------------

  private send(event: Json): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify({ event_id: id('event'), ...event }));
  }

  private error(code: string, message: string, clientEventId?: unknown, param?: string): void {
    this.send({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        code,
        message,
        param: param ?? null,
        event_id: typeof clientEventId === 'string' ? clientEventId : null,
      },
    });
  }

  private dispose(): void {
    this.closed = true;
    clearTimeout(this.active?.timer);
  }

  private onMessage(text: string, isBinary: boolean): void {
    let event: Json;
    try {
      if (isBinary) throw new Error('binary');
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error();
      event = parsed as Json;
    } catch {
      this.error('invalid_json', 'We could not parse the JSON body of your request.');
      return;
    }
    const eventId = event.event_id;
    switch (event.type) {
      case 'session.update':
        return this.onSessionUpdate(event.session, eventId);
      case 'input_audio_buffer.append':
        return this.onAppend(event.audio, eventId);
      case 'input_audio_buffer.commit':
        return this.onCommit(eventId);
      case 'input_audio_buffer.clear':
        this.buffered = [];
        this.bufferedSamples = 0;
        return this.send({ type: 'input_audio_buffer.cleared' });
      case 'conversation.item.create':
        return this.onItemCreate(event.item, eventId);
      case 'conversation.item.truncate':
        return this.onTruncate(event, eventId);
      case 'conversation.item.delete':
        return this.send({ type: 'conversation.item.deleted', item_id: event.item_id });
      case 'response.create':
        return this.onResponseCreate(event.response, eventId);
      case 'response.cancel':
        if (!this.active) {
          return this.error(
            'response_cancel_not_active',
            'Cancellation failed: no active response found.',
            eventId,
          );
        }
        return this.finishResponse('cancelled', 'client_cancelled');
      default:
        this.error(
          'invalid_value',
          `Invalid value: '${String(event.type)}'. The demo model does not know this client event.`,
          eventId,
          'type',
        );
    }
  }

  // --- session ------------------------------------------------------------------------------

  private describeSession(): Json {
    const c = this.config;
    const format = (f: DemoAudioFormat) =>
      f === 'audio/pcm' ? { type: f, rate: 24000 } : { type: f };
    return {
      type: 'realtime',
      object: 'realtime.session',
      id: this.sessionId,
      model: this.model,
      output_modalities: ['audio'],
      instructions: c.instructions,
      audio: {
        input: {
          format: format(c.inputFormat),
          transcription: c.transcriptionModel ? { model: c.transcriptionModel } : null,
          noise_reduction: null,
          turn_detection: c.vad && {
            type: c.vad.type,
            threshold: c.vad.threshold,
            prefix_padding_ms: c.vad.prefixPaddingMs,
            silence_duration_ms: c.vad.silenceDurationMs,
            create_response: c.vad.createResponse,
            interrupt_response: c.vad.interruptResponse,
          },
        },
        output: { format: format(c.outputFormat), voice: c.voice, speed: 1 },
      },
      tools: c.tools.map((tool) => ({ type: 'function', ...tool })),
      tool_choice: 'auto',
      max_output_tokens: 'inf',
      expires_at: Math.floor(Date.now() / 1000) + SESSION_LIFETIME_S,
    };
  }

  private onSessionUpdate(value: unknown, eventId: unknown): void {
    if (!isObject(value)) {
      return this.error(
        'missing_required_parameter',
        "Missing required parameter: 'session'.",
        eventId,
        'session',
      );
    }
    // The beta's flat fields are gone in GA: the real server refuses them, so does this one.
    for (const beta of [
      'input_audio_format',
      'output_audio_format',
      'input_audio_transcription',
      'modalities',
      'voice',
      'turn_detection',
    ]) {
      if (beta in value) {
        return this.error(
          'unknown_parameter',
          `Unknown parameter: 'session.${beta}'.`,
          eventId,
          `session.${beta}`,
        );
      }
    }
    if (value.type !== 'realtime') {
      return this.error(
        'missing_required_parameter',
        "Missing required parameter: 'session.type'.",
        eventId,
        'session.type',
      );
    }
    const next = { ...this.config };
    if (typeof value.instructions === 'string') next.instructions = value.instructions;
    const audio = isObject(value.audio) ? value.audio : {};
    const input = isObject(audio.input) ? audio.input : {};
    const output = isObject(audio.output) ? audio.output : {};
    for (const [where, format] of [
      ['input', input.format],
      ['output', output.format],
    ] as const) {
      if (format === undefined) continue;
      const type = isObject(format) ? format.type : undefined;
      if (type !== 'audio/pcm' && type !== 'audio/pcmu') {
        return this.error(
          'invalid_value',
          `Invalid value for 'session.audio.${where}.format': the demo model speaks audio/pcm (24 kHz) and audio/pcmu.`,
          eventId,
          `session.audio.${where}.format`,
        );
      }
      if (where === 'input') next.inputFormat = type;
      else next.outputFormat = type;
    }
    if ('turn_detection' in input) {
      const td = input.turn_detection;
      next.vad = isObject(td)
        ? {
            type: typeof td.type === 'string' ? td.type : 'server_vad',
            // semantic_vad has no threshold; the demo treats it as server_vad with defaults.
            threshold: typeof td.threshold === 'number' ? td.threshold : 0.5,
            prefixPaddingMs: typeof td.prefix_padding_ms === 'number' ? td.prefix_padding_ms : 300,
            silenceDurationMs:
              typeof td.silence_duration_ms === 'number' ? td.silence_duration_ms : 500,
            createResponse: td.create_response !== false,
            interruptResponse: td.interrupt_response !== false,
          }
        : null;
    }
    if ('transcription' in input) {
      const tr = input.transcription;
      next.transcriptionModel = isObject(tr) && typeof tr.model === 'string' ? tr.model : undefined;
    }
    if (typeof output.voice === 'string') next.voice = output.voice;
    if (Array.isArray(value.tools)) {
      next.tools = value.tools.filter(isObject).map((tool) => ({
        name: String(tool.name),
        description: typeof tool.description === 'string' ? tool.description : undefined,
      }));
    }
    if (next.inputFormat !== this.config.inputFormat)
      this.decoder = new InputDecoder(next.inputFormat);
    this.config = next;
    this.send({ type: 'session.updated', session: this.describeSession() });
  }

  // --- the caller's audio ---------------------------------------------------------------

  private onAppend(audio: unknown, eventId: unknown): void {
    if (typeof audio !== 'string') {
      return this.error(
        'missing_required_parameter',
        "Missing required parameter: 'audio'.",
        eventId,
        'audio',
      );
    }
    const samples = this.decoder.decode(Buffer.from(audio, 'base64'));
    this.buffered.push(samples);
    this.bufferedSamples += samples.length;
    if (!this.config.vad) return;
    for (const event of this.vad.push(samples)) {
      if (event.kind === 'speech_started') {
        this.currentSpeechItem = id('item');
        this.send(speechStarted(this.currentSpeechItem, event.audioStartMs));
        if (this.active && this.config.vad.interruptResponse) {
          this.finishResponse('cancelled', 'turn_detected');
        }
      } else {
        const itemId = this.currentSpeechItem ?? id('item');
        this.currentSpeechItem = undefined;
        this.send(speechStopped(itemId, event.audioEndMs));
        this.commitUserAudio(itemId, event.utterance);
        if (this.config.vad.createResponse && !this.active) this.startResponse(undefined);
      }
    }
  }

  private onCommit(eventId: unknown): void {
    if (this.bufferedSamples < MIN_COMMIT_MS * 8) {
      return this.error(
        'input_audio_buffer_commit_empty',
        `Error committing input audio buffer: buffer too small. Expected at least ${MIN_COMMIT_MS}ms of audio, but buffer only has ${(this.bufferedSamples / 8).toFixed(2)}ms of audio.`,
        eventId,
      );
    }
    this.commitUserAudio(id('item'), concat(this.buffered));
  }

  /** committed -> the user item -> its transcript, as the GA server orders them. */
  private commitUserAudio(itemId: string, utterance: Int16Array): void {
    this.buffered = [];
    this.bufferedSamples = 0;
    this.lastUtterance = utterance;
    this.lastUserText = undefined;
    this.calledToolForTurn = false;
    const previous = this.lastItemId;
    this.lastItemId = itemId;
    const seconds = utterance.length / 8000;
    const transcript = this.config.transcriptionModel
      ? `[${seconds.toFixed(1)} s of speech; the demo model hears sound, not words]`
      : undefined;
    for (const event of callerTurnEvents(itemId, previous, transcript, seconds)) this.send(event);
  }

  // --- items the client adds ---------------------------------------------------------------

  private onItemCreate(item: unknown, eventId: unknown): void {
    if (!isObject(item) || typeof item.type !== 'string') {
      return this.error(
        'missing_required_parameter',
        "Missing required parameter: 'item.type'.",
        eventId,
        'item.type',
      );
    }
    if (item.type === 'function_call_output') {
      const callId = typeof item.call_id === 'string' ? item.call_id : '';
      const tool = this.pendingCalls.get(callId);
      if (!tool) {
        return this.error(
          'invalid_value',
          `Invalid value for 'item.call_id': no function call with id '${callId}'.`,
          eventId,
          'item.call_id',
        );
      }
      this.pendingCalls.delete(callId);
      const output = typeof item.output === 'string' ? item.output : JSON.stringify(item.output);
      this.lastToolOutput = { name: tool, output };
    } else if (item.type === 'message' && Array.isArray(item.content)) {
      const texts = item.content
        .filter(isObject)
        .map((part) => (typeof part.text === 'string' ? part.text : ''))
        .filter(Boolean);
      if (item.role === 'user' && texts.length > 0) {
        this.lastUserText = texts.join(' ');
        this.calledToolForTurn = true; // a typed line gets an answer, not a tool call
      }
    }
    const itemId = typeof item.id === 'string' ? item.id : id('item');
    const stored = { ...item, id: itemId, object: 'realtime.item', status: 'completed' };
    const previous = this.lastItemId;
    this.lastItemId = itemId;
    this.send({ type: 'conversation.item.added', previous_item_id: previous, item: stored });
    this.send({ type: 'conversation.item.done', previous_item_id: previous, item: stored });
  }

  private onTruncate(event: Json, eventId: unknown): void {
    const itemId = typeof event.item_id === 'string' ? event.item_id : '';
    const audioEndMs = event.audio_end_ms;
    const item = this.items.get(itemId);
    if (!item) {
      return this.error(
        'invalid_value',
        `Invalid value for 'item_id': no assistant audio item '${itemId}'.`,
        eventId,
        'item_id',
      );
    }
    if (typeof audioEndMs !== 'number' || !Number.isInteger(audioEndMs) || audioEndMs < 0) {
      return this.error(
        'invalid_value',
        "Invalid value for 'audio_end_ms': expected a whole number.",
        eventId,
        'audio_end_ms',
      );
    }
    if (audioEndMs > item.audioMs) {
      // The real server's wording for this mistake.
      return this.error(
        'invalid_value',
        `Audio content of ${item.audioMs}ms is already shorter than ${audioEndMs}ms`,
        eventId,
        'audio_end_ms',
      );
    }
    item.audioMs = audioEndMs;
    this.send({
      type: 'conversation.item.truncated',
      item_id: itemId,
      content_index: event.content_index ?? 0,
      audio_end_ms: audioEndMs,
    });
  }

  // --- responses ---------------------------------------------------------------------------

  private onResponseCreate(response: unknown, eventId: unknown): void {
    if (this.active) {
      return this.error(
        'conversation_already_has_active_response',
        `Conversation already has an active response in progress: ${this.active.id}. Wait until the response is finished before creating a new one.`,
        eventId,
      );
    }
    const instructions =
      isObject(response) && typeof response.instructions === 'string'
        ? response.instructions
        : undefined;
    this.startResponse(instructions);
  }

  private startResponse(instructions: string | undefined): void {
    const response: ActiveResponse = {
      id: id('resp'),
      transcript: '',
      spokenWords: 0,
      sentBytes: 0,
      inputMs: this.lastUtterance.length / 8,
    };
    this.active = response;
    this.send(responseCreated(response.id));
    const tool = this.config.tools.find((t) => t.name === DEMO_TOOL);
    if (!instructions && tool && !this.calledToolForTurn && !this.lastToolOutput) {
      this.calledToolForTurn = true;
      this.callTool(response, tool.name);
      return;
    }
    // The caller's words are played back once, in the answer to the turn they were said in.
    const echo = instructions || this.lastUserText ? new Int16Array(0) : this.lastUtterance;
    this.speak(response, this.replyText(instructions), echo);
    if (!instructions) this.lastUtterance = new Int16Array(0);
  }

  /** What the demo model says: it reads quoted text in its instructions, tool output, or typed text. */
  private replyText(instructions: string | undefined): string {
    if (instructions) {
      const quoted = /"([^"]{1,300})"/.exec(instructions)?.[1];
      return quoted ?? 'Goodbye, and thank you for trying the demo model.';
    }
    const parts: string[] = [];
    if (this.lastToolOutput) {
      parts.push(`${this.lastToolOutput.name} says ${readable(this.lastToolOutput.output)}.`);
      this.lastToolOutput = undefined;
    }
    if (this.lastUserText) {
      parts.push(`You told me: ${this.lastUserText}.`);
      this.lastUserText = undefined;
    } else if (this.lastUtterance.length > 0) parts.push('Here is what I heard.');
    else parts.push('I am the demo model. Say something and I will play it back.');
    return parts.join(' ');
  }

  private callTool(response: ActiveResponse, name: string): void {
    const callId = id('call');
    const itemId = id('item');
    const args = JSON.stringify({
      day: new Date().toLocaleDateString('en-US', { weekday: 'long' }).toLowerCase(),
    });
    this.pendingCalls.set(callId, name);
    this.note(`demo model: calling ${name}(${args})`);
    const done = functionCallItem(itemId, callId, name, args);
    const previous = this.lastItemId;
    this.lastItemId = itemId;
    for (const event of functionCallEvents(response.id, done, previous)) this.send(event);
    this.active = undefined;
    this.send(responseDone(response.id, 'completed', [done], usage(0, 12, 0)));
  }

  /** A sentence (one tone per word) and then `echo` (the caller's words), streamed ahead of real time. */
  private speak(response: ActiveResponse, text: string, echo: Int16Array): void {
    const format = this.config.outputFormat;
    const chime = tone(880, 120);
    const pcm = concat([speakAsTones(text), echo.length ? chime : new Int16Array(0), echo]);
    response.audio = encodeOutput(pcm, format);
    response.transcript = text;
    const itemId = id('item');
    response.itemId = itemId;
    this.items.set(itemId, { audioMs: 0 });
    const previous = this.lastItemId;
    this.lastItemId = itemId;
    const at = contentAt(response.id, itemId);
    for (const event of assistantItemStarted(at, previous)) this.send(event);
    const words = text.split(/\s+/).filter(Boolean);
    const chunkBytes = DELTA_MS * bytesPerMs(format);
    const step = () => {
      if (this.active !== response || !response.audio) return;
      const chunk = response.audio.subarray(response.sentBytes, response.sentBytes + chunkBytes);
      if (chunk.length === 0) {
        this.finishResponse('completed');
        return;
      }
      response.sentBytes += chunk.length;
      this.items.get(itemId)!.audioMs = Math.floor(response.sentBytes / bytesPerMs(format));
      this.send(audioDelta(at, chunk));
      // The transcript runs along with the audio, a word or so per delta.
      const wordsDue = Math.ceil((response.sentBytes / response.audio.length) * words.length);
      if (wordsDue > response.spokenWords) {
        const delta =
          (response.spokenWords ? ' ' : '') + words.slice(response.spokenWords, wordsDue).join(' ');
        response.spokenWords = wordsDue;
        this.send(transcriptDelta(at, delta));
      }
      response.timer = setTimeout(step, DELTA_EVERY_MS);
    };
    step();
  }

  /** Ends the active response: completed, or cancelled (barge-in, response.cancel). */
  private finishResponse(
    status: 'completed' | 'cancelled',
    reason?: 'turn_detected' | 'client_cancelled',
  ): void {
    const response = this.active;
    if (!response) return;
    this.active = undefined;
    clearTimeout(response.timer);
    const output: Json[] = [];
    if (response.itemId) {
      const words = response.transcript.split(/\s+/).filter(Boolean);
      const transcript =
        status === 'completed'
          ? response.transcript
          : words.slice(0, response.spokenWords).join(' ');
      const done = assistantItemDone(
        contentAt(response.id, response.itemId),
        transcript,
        status === 'completed' ? 'completed' : 'incomplete',
      );
      for (const event of done.events) this.send(event);
      output.push(done.item);
    }
    const audioMs = response.sentBytes / bytesPerMs(this.config.outputFormat);
    const spent = usage(response.inputMs, response.transcript.split(/\s+/).length, audioMs);
    this.send(responseDone(response.id, status, output, spent, reason));
  }
}

/** Token usage in the GA shape, from what was heard and said (audio ~10 tokens/s in, 20 out). */
function usage(inputAudioMs: number, textTokens: number, outputAudioMs: number): RealtimeUsage {
  const inputAudio = Math.round(inputAudioMs / 100);
  const outputAudio = Math.round(outputAudioMs / 50);
  const input = inputAudio + 20;
  const output = outputAudio + textTokens;
  return {
    total_tokens: input + output,
    input_tokens: input,
    output_tokens: output,
    input_token_details: { text_tokens: 20, audio_tokens: inputAudio, cached_tokens: 0 },
    output_token_details: { text_tokens: textTokens, audio_tokens: outputAudio },
  };
}

/** A tool's JSON output as words: {"day":"monday","hours":"9-5"} -> "day monday, hours 9-5". */
function readable(output: string): string {
  try {
    const value: unknown = JSON.parse(output);
    if (isObject(value)) {
      return Object.entries(value)
        .map(([key, v]) => `${key} ${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(', ');
    }
    return String(value);
  } catch {
    return output.slice(0, 200);
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
