import type * as Sdk from 'openai/resources/realtime/realtime';
import { isBase64, isObject, isString } from '../text/json-guards.js';
import { cutText } from '../text/text-bound.js';
import { MAX_ID_CHARS, oversizedId } from './realtime-ids.js';
import {
  asFunctionCall,
  functionCall,
  summariseItem,
  type FunctionCall,
  type RealtimeItemSummary,
} from './realtime-items.js';

export {
  functionCallsIn,
  MAX_TOOL_ARGUMENTS_BYTES,
  type FunctionCall,
  type RealtimeItemSummary,
} from './realtime-items.js';

/**
 * OpenAI Realtime API (GA) server events the bridge acts on: the `openai` package's event types,
 * narrowed to what `parseRealtimeEvent` checked. The SDK's types say what a well-behaved server
 * sends; a socket can carry anything, so each event is checked at the edge for its `type` and the
 * fields the bridge reads (and cut to size), and only those fields are handed on. Any other event
 * is passed along as `other` (logged at debug level), since the API adds events over time.
 */

/** The SDK's event `E` as parsed: its `type` and the fields `K` the parser checked. */
type Checked<E extends { type: string }, K extends keyof E = never> = Pick<E, 'type' | K>;
/** Fields of `E` the parser passes on when they are present and of the right type. */
type IfPresent<E, K extends keyof E> = Partial<Pick<E, K>>;

/** An `error` event's detail: every field a string when present (text cut to size). */
export type RealtimeErrorDetail = { [K in keyof Sdk.RealtimeError]?: string };

/** A response as `response.done` reports it; `output` and the records are read with guards. */
export type RealtimeResponse = Required<Pick<Sdk.RealtimeResponse, 'id'>> &
  Pick<Sdk.RealtimeResponse, 'status'> & {
    /** What the bridge put in `response.create`'s metadata, echoed by the server. */
    metadata?: Sdk.RealtimeResponse['metadata'];
    status_details?: Record<string, unknown> | null;
    usage?: Record<string, unknown> | null;
    output?: unknown[];
  };

export type RealtimeServerEvent =
  | Checked<Sdk.SessionCreatedEvent | Sdk.SessionUpdatedEvent>
  | (Checked<Sdk.RealtimeErrorEvent> & { error: RealtimeErrorDetail })
  | Checked<Sdk.ResponseAudioDeltaEvent, 'response_id' | 'item_id' | 'content_index' | 'delta'>
  | Checked<Sdk.ResponseAudioDoneEvent, 'response_id' | 'item_id' | 'content_index'>
  | (Checked<Sdk.ResponseCreatedEvent> & { response: Pick<RealtimeResponse, 'id' | 'metadata'> })
  | (Checked<Sdk.ResponseDoneEvent> & { response: RealtimeResponse })
  | (Checked<Sdk.InputAudioBufferSpeechStartedEvent> &
      IfPresent<Sdk.InputAudioBufferSpeechStartedEvent, 'item_id' | 'audio_start_ms'>)
  | (Checked<Sdk.InputAudioBufferSpeechStoppedEvent> &
      IfPresent<Sdk.InputAudioBufferSpeechStoppedEvent, 'item_id' | 'audio_end_ms'>)
  | Checked<Sdk.ConversationItemInputAudioTranscriptionCompletedEvent, 'item_id' | 'transcript'>
  | Checked<Sdk.ConversationItemInputAudioTranscriptionFailedEvent, 'item_id' | 'error'>
  | (Checked<Sdk.ResponseAudioTranscriptDoneEvent, 'item_id' | 'transcript'> &
      IfPresent<Sdk.ResponseAudioTranscriptDoneEvent, 'response_id'>)
  /**
   * SIP and WebRTC only: the server began playing a response to the caller, sent all of it, or
   * dropped the rest because the caller interrupted it.
   */
  | (Checked<
      | Sdk.RealtimeServerEvent.OutputAudioBufferStarted
      | Sdk.RealtimeServerEvent.OutputAudioBufferStopped
      | Sdk.RealtimeServerEvent.OutputAudioBufferCleared
    > & { response_id?: string })
  /** SIP only: the caller pressed a key (`event`: 0-9, *, #, A-D). */
  | Checked<Sdk.InputAudioBufferDtmfEventReceivedEvent, 'event'>
  /** `previous_item_id`: the item it follows; null for the first item of the conversation. */
  | (Checked<
      Sdk.ConversationItemAdded | Sdk.ConversationItemDone | Sdk.ConversationItemCreatedEvent,
      'previous_item_id'
    > & { item: RealtimeItemSummary })
  | Checked<Sdk.InputAudioBufferCommittedEvent, 'item_id' | 'previous_item_id'>
  | Checked<Sdk.ConversationItemTruncatedEvent, 'item_id' | 'content_index' | 'audio_end_ms'>
  | (Checked<Sdk.ResponseFunctionCallArgumentsDoneEvent> & FunctionCall)
  | (Checked<Sdk.ResponseOutputItemDoneEvent> & FunctionCall)
  | { type: 'other'; originalType: string };

export type RealtimeEventParseResult =
  { ok: true; event: RealtimeServerEvent } | { ok: false; reason: string };

/**
 * Sizes are checked by length before anything else looks at a field. An audio delta is a few
 * hundred ms in practice; 10 s of mu-law is far beyond any the API sends, and anything larger is
 * dropped with a reason rather than played, decoded or matched.
 */
export const MAX_AUDIO_DELTA_CHARS = Math.ceil((10 * 8000) / 3) * 4;
/** Transcripts longer than this are cut (they go into logs, events and the re-seed). */
export const MAX_TRANSCRIPT_CHARS = 20_000;
/** Error messages are cut to this. */
const MAX_ERROR_TEXT_CHARS = 1000;
/** A response's statuses, as the SDK lists them (a compile error when it adds one). */
const RESPONSE_STATUSES: Record<NonNullable<RealtimeResponse['status']>, true> = {
  completed: true,
  cancelled: true,
  failed: true,
  incomplete: true,
  in_progress: true,
};

const fail = (reason: string): RealtimeEventParseResult => ({ ok: false, reason });
const ok = (event: RealtimeServerEvent): RealtimeEventParseResult => ({ ok: true, event });

/** Parses one text message from the Realtime socket; never throws. */
export function parseRealtimeEvent(text: string): RealtimeEventParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('not JSON');
  }
  if (!isObject(value) || !isString(value.type)) return fail('no event type');
  const v = value;
  const originalType = value.type;
  const longId = oversizedId(v);
  if (longId) return fail(`${originalType}: ${longId} over ${MAX_ID_CHARS} characters`);
  switch (v.type) {
    case 'session.created':
    case 'session.updated':
      // Only the event itself is read (the session is the one the bridge sent).
      return ok({ type: v.type });
    case 'error':
      return ok({ type: 'error', error: errorDetail(v.error) });
    case 'response.output_audio.delta':
      if (!isString(v.response_id) || !isString(v.item_id) || !isString(v.delta)) {
        return fail('audio delta without response_id/item_id/delta');
      }
      if (v.delta.length > MAX_AUDIO_DELTA_CHARS) {
        return fail(`audio delta of ${v.delta.length} characters (over ${MAX_AUDIO_DELTA_CHARS})`);
      }
      if (!isBase64(v.delta)) return fail('audio delta is not base64');
      return ok({
        type: v.type,
        response_id: v.response_id,
        item_id: v.item_id,
        content_index: typeof v.content_index === 'number' ? v.content_index : 0,
        delta: v.delta,
      });
    case 'response.output_audio.done':
      if (!isString(v.response_id) || !isString(v.item_id)) return fail('audio done without ids');
      return ok({
        type: v.type,
        response_id: v.response_id,
        item_id: v.item_id,
        content_index: typeof v.content_index === 'number' ? v.content_index : 0,
      });
    case 'response.created':
      return isObject(v.response) && isString(v.response.id)
        ? ok({
            type: v.type,
            response: { id: v.response.id, metadata: metadataOf(v.response.metadata) },
          })
        : fail('response.created without response.id');
    case 'response.done': {
      const r = v.response;
      if (!isObject(r) || !isString(r.id)) return fail('response.done without response.id');
      return ok({
        type: v.type,
        response: {
          id: r.id,
          status: responseStatus(r.status),
          status_details: isObject(r.status_details) ? r.status_details : null,
          usage: isObject(r.usage) ? r.usage : null,
          output: Array.isArray(r.output) ? r.output : [],
          metadata: stringRecord(r.metadata),
        },
      });
    }
    case 'input_audio_buffer.speech_started':
      return ok({
        type: v.type,
        item_id: optStr(v.item_id),
        audio_start_ms: optNum(v.audio_start_ms),
      });
    case 'input_audio_buffer.speech_stopped':
      return ok({ type: v.type, item_id: optStr(v.item_id), audio_end_ms: optNum(v.audio_end_ms) });
    case 'input_audio_buffer.committed':
      return isString(v.item_id)
        ? ok({
            type: v.type,
            item_id: v.item_id,
            previous_item_id: optPrevious(v.previous_item_id),
          })
        : fail('input_audio_buffer.committed without item_id');
    case 'conversation.item.added':
    case 'conversation.item.done':
    case 'conversation.item.created': {
      const item = summariseItem(v.item);
      if (!item) return fail(`${v.type} without item.id/type`);
      return ok({ type: v.type, item, previous_item_id: optPrevious(v.previous_item_id) });
    }
    case 'conversation.item.input_audio_transcription.failed': {
      if (!isString(v.item_id)) return fail(`${v.type} without item_id`);
      return ok({ type: v.type, item_id: v.item_id, error: errorDetail(v.error) });
    }
    case 'conversation.item.truncated':
      if (!isString(v.item_id) || typeof v.audio_end_ms !== 'number') {
        return fail('conversation.item.truncated without item_id/audio_end_ms');
      }
      return ok({
        type: v.type,
        item_id: v.item_id,
        content_index: typeof v.content_index === 'number' ? v.content_index : 0,
        audio_end_ms: v.audio_end_ms,
      });
    case 'conversation.item.input_audio_transcription.completed':
    case 'response.output_audio_transcript.done': {
      const { type, item_id: itemId, transcript } = v;
      if (!isString(itemId) || !isString(transcript))
        return fail(`${type} without item_id/transcript`);
      const text = cutText(transcript, MAX_TRANSCRIPT_CHARS);
      return type === 'response.output_audio_transcript.done' && isString(v.response_id)
        ? ok({ type, item_id: itemId, transcript: text, response_id: v.response_id })
        : ok({ type, item_id: itemId, transcript: text });
    }
    case 'output_audio_buffer.started':
    case 'output_audio_buffer.stopped':
    case 'output_audio_buffer.cleared':
      return ok({ type: v.type, response_id: optStr(v.response_id) });
    case 'input_audio_buffer.dtmf_event_received':
      // Caller-controlled: one keypad symbol, nothing else reaches the transcript or the model.
      return isString(v.event) && /^[0-9*#A-D]$/.test(v.event)
        ? ok({ type: v.type, event: v.event })
        : fail('dtmf_event_received without a keypad symbol');
    case 'response.function_call_arguments.done': {
      const { response_id: responseId, call_id: callId, name, arguments: args } = v;
      if (!isString(responseId) || !isString(callId) || !isString(name) || !isString(args)) {
        return fail('function_call_arguments.done without response_id/call_id/name/arguments');
      }
      // Oversized arguments are kept out here too, and the call refused with an error output.
      return ok({ type: v.type, ...functionCall(responseId, callId, name, args) });
    }
    case 'response.output_item.done': {
      const call = isString(v.response_id) ? asFunctionCall(v.response_id, v.item) : undefined;
      // Other kinds of output item (messages) carry nothing the bridge acts on.
      return ok(call ? { type: v.type, ...call } : { type: 'other', originalType });
    }
    default:
      return ok({ type: 'other', originalType });
  }
}

/** An error object's string fields (message cut to size); anything else is dropped. */
function errorDetail(value: unknown): RealtimeErrorDetail {
  const e = isObject(value) ? value : {};
  return {
    type: optStr(e.type),
    code: optStr(e.code),
    message: isString(e.message) ? cutText(e.message, MAX_ERROR_TEXT_CHARS) : undefined,
    param: optStr(e.param),
    event_id: optStr(e.event_id),
  };
}

/** One of RESPONSE_STATUSES, or undefined for anything else. */
function responseStatus(value: unknown): RealtimeResponse['status'] {
  return isString(value) && Object.hasOwn(RESPONSE_STATUSES, value)
    ? (value as keyof typeof RESPONSE_STATUSES)
    : undefined;
}

function optStr(value: unknown): string | undefined {
  return isString(value) ? value : undefined;
}

function optNum(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/** `previous_item_id`: an id, null (the first item), or absent. */
function optPrevious(value: unknown): string | null | undefined {
  return value === null ? null : optStr(value);
}

/** Metadata is a map of strings (16 pairs at most, per the API); anything else is dropped. */
function stringRecord(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const entries = Object.entries(value).filter((entry): entry is [string, string] =>
    isString(entry[1]),
  );
  return entries.length > 0 ? Object.fromEntries(entries.slice(0, 16)) : undefined;
}

/**
 * A created response's metadata: `null` (OpenAI's value for a response nobody tagged: the
 * server's own) stays apart from a field left out (a server that may not echo tags).
 */
function metadataOf(value: unknown): Record<string, string> | null | undefined {
  return value === null ? null : (stringRecord(value) ?? (isObject(value) ? {} : undefined));
}
