import type { CallDescription } from '../call/call-settings-resolver.js';

/** The DI token a team may provide its tool resolver under (or: `toolResolver` in the options). */
export const CALL_TOOL_RESOLVER = Symbol('CALL_TOOL_RESOLVER');

/**
 * Chooses which tools one call is offered when its stream starts (a caller's plan, the number
 * dialled, a feature flag). `offered` is what the call would get without it: every registered
 * tool (`@RealtimeTool` and the built-ins), or what the settings resolver chose; the answer is
 * taken from those names (others are dropped, with a warning), `undefined` keeps them all. Like
 * the settings resolver it has CALL_SETTINGS_TIMEOUT_MS; a slow or failing one keeps `offered`.
 */
export interface CallToolResolver {
  resolve(
    call: CallDescription,
    offered: readonly string[],
  ): readonly string[] | undefined | Promise<readonly string[] | undefined>;
}
