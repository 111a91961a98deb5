// The public API for teams that extend the bridge with their own Nest modules, and all of it:
// docs/extending.md points here for the list, and test/public-api.spec.ts pins it.
export { TwilioBridgeModule, type TwilioBridgeAsyncOptions } from './twilio-bridge.module.js';
export type {
  TwilioBridgeOptions,
  BridgeModuleOptions,
  BridgeSurfaces,
  ResolverOption,
} from './config/bridge-options.js';
export type { BridgeSettings } from './config/bridge-settings.js';
export { useTwilioBridge } from './app.setup.js';
export { createBridgeApp, type BridgeOptions } from './bridge.js';
export { bootstrapBridge, type BootstrapOptions } from './bootstrap.js';
export { loadBridgeConfig, type BridgeConfig } from './config/load-config.js';
export { ConfigValidationError, type ParsedEnv } from './config/env.schema.js';
export {
  CallContext,
  MAX_SAY_CHARS,
  type CallSessionUpdate,
  type TranscriptTurn,
} from './call/call-context.js';
export {
  CALL_SETTINGS_RESOLVER,
  CALL_SETTINGS_TIMEOUT_MS,
  type CallSettingsResolver,
  type CallSettingsChoice,
  type CallDescription,
} from './call/call-settings-resolver.js';
export { CALL_TOOL_RESOLVER, type CallToolResolver } from './tools/call-tool-resolver.js';
export { AZURE_TOKEN_CREDENTIAL } from './realtime/realtime-credentials.service.js';
export {
  RealtimeTool,
  type RealtimeToolOptions,
  type JsonSchema,
} from './tools/realtime-tool.decorator.js';
export * from './events/call-events.js';
