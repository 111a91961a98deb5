import { SetMetadata } from '@nestjs/common';
import type { z } from 'zod';
import type { CallContext } from '../call/call-context.js';

export const REALTIME_TOOL_METADATA = 'twilio-realtime-bridge:realtime-tool';

/**
 * A raw JSON Schema of a tool's arguments object (`{ type: 'object', properties: ... }`), for
 * teams that already have one. The bridge only checks that the arguments are a JSON object: the
 * handler gets `Record<string, unknown>` and checks the rest itself.
 */
export type JsonSchema = { readonly [key: string]: unknown };

/** A zod schema of a tool's arguments object: sent to the model as JSON Schema, and enforced. */
export type ToolSchema = z.core.$ZodType<object>;

export type ToolParameters = ToolSchema | JsonSchema;

/** A tool without `parameters` takes an empty arguments object. */
export type NoParameters = z.ZodObject<Record<never, never>>;

/** What a tool's handler receives: the schema's output for zod, an unchecked object otherwise. */
export type ToolArguments<P> = P extends z.core.$ZodType ? z.output<P> : Record<string, unknown>;

/**
 * A tool's handler: validated arguments, the call it runs in, and a signal aborted when the
 * model stops waiting for it (TOOL_TIMEOUT_MS passed, or the call ended). The result goes to the
 * model. Pass the signal on (`fetch(url, { signal })`) so that work the model was told failed
 * does not carry on: a payment that "timed out" must not complete a second later.
 */
export type ToolHandler<P = NoParameters> = (
  args: ToolArguments<P>,
  call: CallContext,
  signal: AbortSignal,
) => unknown;

export interface RealtimeToolOptions<P extends ToolParameters = ToolParameters> {
  /** The name the model calls it by: letters, digits, `_` and `-`. */
  name: string;
  /** When and why the model should call it; the model reads this. */
  description: string;
  /** The arguments object: a zod object schema (typed, validated) or a raw JSON Schema. */
  parameters?: P;
}

/**
 * Makes a provider method a tool the model can call:
 *
 * ```ts
 * const LookupOrder = z.object({ orderId: z.string().describe('The id on the receipt') });
 *
 * @RealtimeTool({ name: 'lookup_order', description: 'Find an order by id', parameters: LookupOrder })
 * lookupOrder({ orderId }: z.infer<typeof LookupOrder>, call: CallContext) { ... }
 * ```
 *
 * The model's arguments are validated against the schema before the method runs; invalid ones
 * get an error output telling the model what was wrong (so it can call again) and the method is
 * not called. The method's first parameter must accept what the schema produces: a handler
 * declared for other arguments does not compile. What it returns (or resolves to) is sent back
 * to the model as the function call output (strings as they are, anything else as JSON);
 * throwing sends the model an error output with the error's message instead (so throw messages
 * the model may read), and logs the error with its stack. The third parameter, an AbortSignal,
 * is aborted when the model stops waiting (TOOL_TIMEOUT_MS, or the call ended).
 *
 * The provider may be a singleton or per call (`Scope.REQUEST`): a per-call provider's tool runs
 * on that call's instance, created the first time the call needs it.
 */
export function RealtimeTool<P extends ToolParameters = NoParameters>(
  options: RealtimeToolOptions<P>,
): <M extends ToolHandler<P>>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void {
  // The generic M is the method's own type: checking it against ToolHandler<P> is what turns a
  // handler whose arguments do not match the schema into a compile error.
  return (target, key, descriptor) => {
    SetMetadata(REALTIME_TOOL_METADATA, options)(target, key, descriptor);
  };
}
