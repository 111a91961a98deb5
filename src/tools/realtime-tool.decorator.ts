import { SetMetadata } from '@nestjs/common';

export const REALTIME_TOOL_METADATA = 'twilio-realtime-bridge:realtime-tool';

/** A JSON Schema object describing a tool's arguments, as the Realtime API expects. */
export type JsonSchema = Record<string, unknown>;

export interface RealtimeToolOptions {
  /** The name the model calls it by: letters, digits, `_` and `-`. */
  name: string;
  /** When and why the model should call it; the model reads this. */
  description: string;
  /** JSON Schema of the arguments object (default: no arguments). */
  parameters?: JsonSchema;
}

/**
 * Makes a provider method a tool the model can call:
 *
 * ```ts
 * @RealtimeTool({ name: 'lookup_order', description: 'Find an order by id',
 *   parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] } })
 * lookupOrder(args: { orderId: string }, call: CallContext) { ... }
 * ```
 *
 * The method gets the parsed arguments and the call's CallContext; what it returns (or resolves
 * to) is sent back to the model as the function call output (strings as they are, anything else
 * as JSON). Throwing sends the model an error output instead.
 */
export const RealtimeTool = (options: RealtimeToolOptions): MethodDecorator =>
  SetMetadata(REALTIME_TOOL_METADATA, options);
