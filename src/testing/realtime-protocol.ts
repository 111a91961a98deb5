/**
 * The server side of the OpenAI Realtime API (GA), as event builders: what OpenAI's server sends,
 * in the shapes and the order it sends them. One copy for every stand-in of the model in this
 * repository: the testing kit's scriptable fake (`FakeRealtimeConnection`) and the demo model
 * (`npm run demo:model`) build their events here.
 */

/** A server event, before the `event_id` the sender stamps on it. */
export type RealtimeServerEvent = { type: string } & Record<string, unknown>;

/** Where a piece of a response goes: its response, item and (for audio) content part. */
export interface ContentAt {
  response_id: string;
  item_id: string;
  output_index: number;
  content_index: number;
}

/** Token usage in the GA shape. */
export interface RealtimeUsage {
  total_tokens: number;
  input_tokens: number;
  output_tokens: number;
  [detail: string]: unknown;
}

export const contentAt = (responseId: string, itemId: string): ContentAt => ({
  response_id: responseId,
  item_id: itemId,
  output_index: 0,
  content_index: 0,
});

/** Server VAD heard the caller start: the bridge barges in on any answer playing. */
export const speechStarted = (itemId: string, audioStartMs: number): RealtimeServerEvent => ({
  type: 'input_audio_buffer.speech_started',
  audio_start_ms: audioStartMs,
  item_id: itemId,
});

export const speechStopped = (itemId: string, audioEndMs: number): RealtimeServerEvent => ({
  type: 'input_audio_buffer.speech_stopped',
  audio_end_ms: audioEndMs,
  item_id: itemId,
});

/**
 * A caller turn placed in the conversation: committed -> the user item -> (with transcription
 * on) its transcript, as the GA server orders them. `transcript` undefined: no transcription.
 */
export function callerTurnEvents(
  itemId: string,
  previousItemId: string | null,
  transcript: string | undefined,
  seconds: number,
): RealtimeServerEvent[] {
  const item = {
    id: itemId,
    object: 'realtime.item',
    type: 'message',
    status: 'completed',
    role: 'user',
    content: [{ type: 'input_audio', transcript: null }],
  };
  const events: RealtimeServerEvent[] = [
    { type: 'input_audio_buffer.committed', item_id: itemId, previous_item_id: previousItemId },
    { type: 'conversation.item.added', previous_item_id: previousItemId, item },
    { type: 'conversation.item.done', previous_item_id: previousItemId, item },
  ];
  if (transcript === undefined) return events;
  const at = { item_id: itemId, content_index: 0 };
  return [
    ...events,
    { type: 'conversation.item.input_audio_transcription.delta', ...at, delta: transcript },
    {
      type: 'conversation.item.input_audio_transcription.completed',
      ...at,
      transcript,
      usage: { type: 'duration', seconds: Math.ceil(seconds) },
    },
  ];
}

/** Every response starts with this. The server echoes the request's metadata, as OpenAI does. */
export const responseCreated = (id: string, metadata: unknown = null): RealtimeServerEvent => ({
  type: 'response.created',
  response: {
    object: 'realtime.response',
    id,
    status: 'in_progress',
    status_details: null,
    output: [],
    usage: null,
    metadata,
  },
});

/** The function_call item of a response, once its arguments are complete. */
export function functionCallItem(
  itemId: string,
  callId: string,
  name: string,
  argumentsJson: string,
): Record<string, unknown> {
  return {
    id: itemId,
    object: 'realtime.item',
    type: 'function_call',
    status: 'completed',
    name,
    call_id: callId,
    arguments: argumentsJson,
  };
}

/** The model calls a function: the item appears, its arguments stream, the item completes. */
export function functionCallEvents(
  responseId: string,
  item: Record<string, unknown>,
  previousItemId: string | null,
): RealtimeServerEvent[] {
  const inProgress = { ...item, status: 'in_progress', arguments: '' };
  const args = item.arguments as string;
  const at = { response_id: responseId, item_id: item.id, output_index: 0, call_id: item.call_id };
  return [
    {
      type: 'response.output_item.added',
      response_id: responseId,
      output_index: 0,
      item: inProgress,
    },
    { type: 'conversation.item.added', previous_item_id: previousItemId, item: inProgress },
    { type: 'response.function_call_arguments.delta', ...at, delta: args },
    { type: 'response.function_call_arguments.done', ...at, name: item.name, arguments: args },
    { type: 'response.output_item.done', response_id: responseId, output_index: 0, item },
    { type: 'conversation.item.done', previous_item_id: previousItemId, item },
  ];
}

/** The assistant's audio message opens: its item, then its audio content part. */
export function assistantItemStarted(
  at: ContentAt,
  previousItemId: string | null,
): RealtimeServerEvent[] {
  const item = {
    id: at.item_id,
    object: 'realtime.item',
    type: 'message',
    status: 'in_progress',
    role: 'assistant',
    content: [],
  };
  return [
    { type: 'response.output_item.added', response_id: at.response_id, output_index: 0, item },
    { type: 'conversation.item.added', previous_item_id: previousItemId, item },
    { type: 'response.content_part.added', ...at, part: { type: 'audio', transcript: '' } },
  ];
}

/** A chunk of the answer's audio, base64 in the session's output format. */
export const audioDelta = (at: ContentAt, audio: Buffer): RealtimeServerEvent => ({
  type: 'response.output_audio.delta',
  ...at,
  delta: audio.toString('base64'),
});

export const transcriptDelta = (at: ContentAt, delta: string): RealtimeServerEvent => ({
  type: 'response.output_audio_transcript.delta',
  ...at,
  delta,
});

/**
 * The assistant's audio message closes: audio done, transcript done (for a cut answer, the words
 * spoken so far), part done, item done. Returns the item too, for `response.done`'s output.
 */
export function assistantItemDone(
  at: ContentAt,
  transcript: string,
  status: 'completed' | 'incomplete',
): { events: RealtimeServerEvent[]; item: Record<string, unknown> } {
  const item = {
    id: at.item_id,
    object: 'realtime.item',
    type: 'message',
    status,
    role: 'assistant',
    content: [{ type: 'output_audio', transcript }],
  };
  return {
    item,
    events: [
      { type: 'response.output_audio.done', ...at },
      { type: 'response.output_audio_transcript.done', ...at, transcript },
      { type: 'response.content_part.done', ...at, part: { type: 'audio', transcript } },
      { type: 'response.output_item.done', response_id: at.response_id, output_index: 0, item },
      { type: 'conversation.item.done', item },
    ],
  };
}

/** The response is over: completed, or cancelled (barge-in: `turn_detected`; `response.cancel`). */
export function responseDone(
  id: string,
  status: 'completed' | 'cancelled',
  output: unknown[],
  usage: RealtimeUsage,
  reason?: 'turn_detected' | 'client_cancelled',
): RealtimeServerEvent {
  return {
    type: 'response.done',
    response: {
      object: 'realtime.response',
      id,
      status,
      status_details: status === 'completed' ? null : { type: 'cancelled', reason },
      output,
      usage,
    },
  };
}
