/**
 * Bounds on what every call's `session.update` carries: the tools it offers and its
 * instructions. The whole session goes to OpenAI at the start of every call and again at every
 * reconnect, so a tool list or a prompt that grew by mistake (a generated schema, a CRM field
 * pasted into the instructions) costs its size on every one of them; and OpenAI refuses what it
 * cannot take only then, per call, where the caller hears nothing but the fallback.
 *
 * The Realtime API documents no limit of its own on either (the `openai` package's GA types say
 * nothing either). OpenAI documents 128 function tools for Chat Completions ("A max of 128
 * functions are supported", refused with `array_above_max_length`), which is the count taken
 * here. The byte bounds are ours, sized by the model's context window rather than by any rule of
 * OpenAI's: gpt-realtime has 32k tokens of context (gpt-realtime-2: 128k), and the tools and
 * instructions sit in it for the whole call, so 128 KiB of tool definitions (~32k tokens)
 * already fills the default model's context, and 64 KiB of instructions half of it. They are
 * generous, not exact (both at their bounds overflow gpt-realtime, not gpt-realtime-2; OpenAI
 * judges the fit per model): what they stop is the multi-megabyte session. Real tools are a few
 * hundred bytes to a few KB each, real phone prompts a few KB.
 */

/** Tools registered in all (`@RealtimeTool`s and the bridge's `end_call` / `transfer_call`). */
export const MAX_TOOLS = 128;

/** One tool's definition as `session.update` lists it (name, description, parameters), as JSON. */
export const MAX_TOOL_DEFINITION_BYTES = 16 * 1024;

/** Every registered tool's definition together: what a call offered all of them carries. */
export const MAX_TOOLS_BYTES = 128 * 1024;

/**
 * A call's instructions, as the session carries them (UTF-8 in a JSON string): env, profile,
 * resolver, `updateSession` or an outbound call's plan (`POST /api/calls` checks it too).
 */
export const MAX_INSTRUCTIONS_BYTES = 64 * 1024;

/** `65,536`: a size or count as people read it in a log line. */
export function readable(count: number): string {
  return count.toLocaleString('en-US');
}

/**
 * Why these instructions cannot go into a session (too long), or undefined. Measured as the
 * session carries them: UTF-8 inside a JSON string, where a control character or a lone
 * surrogate is a 6-byte escape. A UTF-16 unit is at most 6 bytes there, so the common case is
 * settled by length alone, with no encoding.
 */
export function instructionsProblem(instructions: string): string | undefined {
  if (instructions.length * 6 <= MAX_INSTRUCTIONS_BYTES) return undefined;
  const bytes = jsonStringBytes(instructions);
  if (bytes <= MAX_INSTRUCTIONS_BYTES) return undefined;
  return (
    `instructions of ${readable(bytes)} bytes, over MAX_INSTRUCTIONS_BYTES ` +
    `(${readable(MAX_INSTRUCTIONS_BYTES)})`
  );
}

/** A string's bytes in JSON, without its quotes. */
function jsonStringBytes(value: string): number {
  return Buffer.byteLength(JSON.stringify(value)) - 2;
}

/**
 * Why this list of tool names cannot be a call's tools (longer than MAX_TOOLS), or undefined.
 * Only registered names reach the session, so its size is bounded anyway; the list's length is
 * not, and every tool call of the call looks its name up in it.
 */
export function toolNamesProblem(names: readonly unknown[]): string | undefined {
  if (names.length <= MAX_TOOLS) return undefined;
  return `${readable(names.length)} tool names, over MAX_TOOLS (${MAX_TOOLS})`;
}
