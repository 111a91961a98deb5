import { isBase64, isObject, isString } from '../common/json-guards.js';

/**
 * OpenAI Realtime API (GA) server events the bridge acts on, validated at the edge. Anything else
 * is passed along as `other` (logged at debug level), since the API adds events over time.
 */

export interface RealtimeErrorDetail {
  type?: string;
  code?: string;
  message?: string;
  param?: string;
  event_id?: string | null;
}

export type RealtimeServerEvent =
  | { type: 'session.created' | 'session.updated'; session: Record<string, unknown> }
  | { type: 'error'; error: RealtimeErrorDetail }
  | {
      type: 'response.output_audio.delta';
      response_id: string;
      item_id: string;
      content_index: number;
      delta: string;
    }
  | {
      type: 'response.output_audio.done';
      response_id: string;
      item_id: string;
      content_index: number;
    }
  | { type: 'response.created'; response: { id: string } }
  | { type: 'response.done'; response: RealtimeResponse }
  | { type: 'input_audio_buffer.speech_started'; item_id?: string; audio_start_ms?: number }
  | { type: 'input_audio_buffer.speech_stopped'; item_id?: string; audio_end_ms?: number }
  | {
      type: 'conversation.item.input_audio_transcription.completed';
      item_id: string;
      transcript: string;
    }
  | { type: 'response.output_audio_transcript.done'; item_id: string; transcript: string }
  | ({ type: 'response.function_call_arguments.done' } & FunctionCall)
  | ({ type: 'response.output_item.done' } & FunctionCall)
  | { type: 'other'; originalType: string; raw: Record<string, unknown> };

/** A function call the model made, wherever the server reported it. */
export interface FunctionCall {
  response_id: string;
  call_id: string;
  name: string;
  /** JSON text, as the model wrote it. */
  arguments: string;
}

/** The function calls among a response's output items (`response.done`). */
export function functionCallsIn(responseId: string, output: unknown[] | undefined): FunctionCall[] {
  const calls: FunctionCall[] = [];
  for (const item of output ?? []) {
    const call = asFunctionCall(responseId, item);
    if (call) calls.push(call);
  }
  return calls;
}

function asFunctionCall(responseId: string, item: unknown): FunctionCall | undefined {
  if (!isObject(item) || item.type !== 'function_call') return undefined;
  const { call_id: callId, name, arguments: args } = item;
  if (!isString(callId) || !isString(name)) return undefined;
  return {
    response_id: responseId,
    call_id: callId,
    name,
    arguments: isString(args) ? args : '{}',
  };
}

export interface RealtimeResponse {
  id: string;
  status?: string;
  status_details?: Record<string, unknown> | null;
  usage?: Record<string, unknown> | null;
  output?: unknown[];
}

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
/** A tool call's JSON arguments beyond this are refused. */
export const MAX_FUNCTION_ARGUMENTS_CHARS = 256 * 1024;
/** Error messages are cut to this. */
const MAX_ERROR_TEXT_CHARS = 1000;

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
  switch (v.type) {
    case 'session.created':
    case 'session.updated':
      return isObject(v.session)
        ? ok({ type: v.type, session: v.session })
        : fail(`${v.type} without session`);
    case 'error': {
      const e = isObject(v.error) ? v.error : {};
      return ok({
        type: 'error',
        error: {
          type: optStr(e.type),
          code: optStr(e.code),
          message: optStr(e.message)?.slice(0, MAX_ERROR_TEXT_CHARS),
          param: optStr(e.param),
          event_id: optStr(e.event_id),
        },
      });
    }
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
        ? ok({ type: v.type, response: { id: v.response.id } })
        : fail('response.created without response.id');
    case 'response.done': {
      const r = v.response;
      if (!isObject(r) || !isString(r.id)) return fail('response.done without response.id');
      return ok({
        type: v.type,
        response: {
          id: r.id,
          status: optStr(r.status),
          status_details: isObject(r.status_details) ? r.status_details : null,
          usage: isObject(r.usage) ? r.usage : null,
          output: Array.isArray(r.output) ? r.output : [],
        },
      });
    }
    case 'input_audio_buffer.speech_started':
    case 'input_audio_buffer.speech_stopped':
      return ok({ type: v.type, item_id: optStr(v.item_id) });
    case 'conversation.item.input_audio_transcription.completed':
    case 'response.output_audio_transcript.done': {
      const { type, item_id: itemId, transcript } = v;
      if (!isString(itemId) || !isString(transcript))
        return fail(`${type} without item_id/transcript`);
      return ok({ type, item_id: itemId, transcript: transcript.slice(0, MAX_TRANSCRIPT_CHARS) });
    }
    case 'response.function_call_arguments.done': {
      const { response_id: responseId, call_id: callId, name, arguments: args } = v;
      if (!isString(responseId) || !isString(callId) || !isString(name) || !isString(args)) {
        return fail('function_call_arguments.done without response_id/call_id/name/arguments');
      }
      if (args.length > MAX_FUNCTION_ARGUMENTS_CHARS) {
        return fail(`function call arguments over ${MAX_FUNCTION_ARGUMENTS_CHARS} characters`);
      }
      return ok({ type: v.type, response_id: responseId, call_id: callId, name, arguments: args });
    }
    case 'response.output_item.done': {
      const call = isString(v.response_id) ? asFunctionCall(v.response_id, v.item) : undefined;
      // Other kinds of output item (messages) carry nothing the bridge acts on.
      return ok(call ? { type: v.type, ...call } : { type: 'other', originalType, raw: v });
    }
    default:
      return ok({ type: 'other', originalType, raw: v });
  }
}

function optStr(value: unknown): string | undefined {
  return isString(value) ? value : undefined;
}
