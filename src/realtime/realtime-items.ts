import { isObject, isString } from '../text/json-guards.js';
import { cutText } from '../text/text-bound.js';

/** Longest text kept from one item (transcripts go into logs, events and the re-seed). */
export const MAX_ITEM_TEXT_CHARS = 20_000;
/** Longest tool output kept from one item. */
export const MAX_ITEM_JSON_CHARS = 256 * 1024;
/**
 * A tool call's JSON arguments (UTF-8 bytes) beyond this are refused wherever the call is read
 * (`response.function_call_arguments.done`, `response.output_item.done`, `response.done`, a
 * conversation item): the call is answered with an error output and never run. Real arguments
 * are a few hundred bytes.
 */
export const MAX_TOOL_ARGUMENTS_BYTES = 64 * 1024;
/**
 * The largest output a tool may answer with (its JSON, UTF-8). It goes to OpenAI, stays in the
 * call's memory (re-sent at every reconnect) and in its record; a bigger one is an error output,
 * its size logged: a tool that returns a whole database export is a bug to see, not a call to
 * slow down. Real outputs are a few hundred bytes to a few KB.
 */
export const MAX_TOOL_OUTPUT_BYTES = 64 * 1024;
/** Tool names are cut to this (no registered tool has a longer one, so a cut name is unknown). */
export const MAX_TOOL_NAME_CHARS = 128;

/**
 * What the bridge keeps of a conversation item the server reports (`conversation.item.added`,
 * `.done`, `.created`): enough to place it in the conversation and to replay it into a new
 * session. Audio is never kept.
 */
export interface RealtimeItemSummary {
  id: string;
  /** `message`, `function_call`, `function_call_output`, or a kind the bridge ignores. */
  type: string;
  role?: string;
  status?: string;
  /** The message's text, or its audio's transcript, when the server has one. */
  text?: string;
  call_id?: string;
  name?: string;
  arguments?: string;
  output?: string;
}

/** A function call the model made, wherever the server reported it. */
export interface FunctionCall {
  response_id: string;
  call_id: string;
  name: string;
  /** JSON text, as the model wrote it (`{}` when it was over MAX_TOOL_ARGUMENTS_BYTES). */
  arguments: string;
  /** Set when the arguments were over MAX_TOOL_ARGUMENTS_BYTES: their size. Never run. */
  oversizedArgumentsBytes?: number;
}

/** Whether a tool call's arguments are within MAX_TOOL_ARGUMENTS_BYTES. */
export function toolArgumentsWithinBound(args: string): boolean {
  // Each UTF-16 unit is at most 3 bytes of UTF-8: most strings need no byte count at all.
  if (args.length * 3 <= MAX_TOOL_ARGUMENTS_BYTES) return true;
  return (
    args.length <= MAX_TOOL_ARGUMENTS_BYTES && Buffer.byteLength(args) <= MAX_TOOL_ARGUMENTS_BYTES
  );
}

/**
 * A function call as the bridge keeps it, whichever server event carried it: the one place the
 * argument bound is applied. Oversized arguments are not kept (they would reach events, logs and
 * the re-seed); the call is marked so the coordinator refuses it.
 */
export function functionCall(
  responseId: string,
  callId: string,
  name: string,
  args: string,
): FunctionCall {
  const call = {
    response_id: responseId,
    call_id: callId,
    name: cutText(name, MAX_TOOL_NAME_CHARS),
  };
  if (toolArgumentsWithinBound(args)) return { ...call, arguments: args };
  return { ...call, arguments: '{}', oversizedArgumentsBytes: Buffer.byteLength(args) };
}

/**
 * A function call output item, or undefined when the item is something else, or a call the
 * server cut before it was complete (`status: "incomplete"`: the caller spoke over it, a token
 * limit): such a call was never made (a complete one has had its `arguments.done`), and running
 * it (an `end_call` with no arguments yet) would act on half a decision.
 */
export function asFunctionCall(responseId: string, item: unknown): FunctionCall | undefined {
  if (!isObject(item) || item.type !== 'function_call') return undefined;
  if (item.status === 'incomplete') return undefined;
  const { call_id: callId, name, arguments: args } = item;
  if (!isString(callId) || !isString(name)) return undefined;
  return functionCall(responseId, callId, name, isString(args) ? args : '{}');
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

/** An item object from a server event, or undefined when it has no id. */
export function summariseItem(item: unknown): RealtimeItemSummary | undefined {
  if (!isObject(item) || !isString(item.id) || !isString(item.type)) return undefined;
  const texts: string[] = [];
  if (Array.isArray(item.content)) {
    for (const part of item.content) {
      if (!isObject(part)) continue;
      const text = isString(part.text) ? part.text : part.transcript;
      if (isString(text) && text.length > 0) texts.push(text);
    }
  }
  const str = (value: unknown, max: number) => (isString(value) ? cutText(value, max) : undefined);
  return {
    id: item.id,
    type: item.type,
    role: str(item.role, 20),
    status: str(item.status, 20),
    text: texts.length > 0 ? cutText(texts.join(' '), MAX_ITEM_TEXT_CHARS) : undefined,
    call_id: str(item.call_id, 200),
    name: str(item.name, MAX_TOOL_NAME_CHARS),
    // Over the bound, the arguments are not kept: the call is refused (functionCall).
    arguments:
      isString(item.arguments) && toolArgumentsWithinBound(item.arguments)
        ? item.arguments
        : undefined,
    output: str(item.output, MAX_ITEM_JSON_CHARS),
  };
}
