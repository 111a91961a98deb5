// The public API for teams that extend the bridge with their own Nest modules: exactly what the
// README's "Extending the bridge" section documents (test/public-api.spec.ts pins this list).
export { createBridgeApp, type BridgeOptions } from './bridge.js';
export { bootstrapBridge, type BootstrapOptions } from './bootstrap.js';
export {
  loadBridgeConfig,
  type BridgeConfig,
  type LoadConfigOptions,
} from './config/load-config.js';
export { ConfigValidationError, type ParsedEnv } from './config/env.schema.js';
export { CallContext, type TranscriptTurn } from './call/call-context.js';
export {
  RealtimeTool,
  type RealtimeToolOptions,
  type JsonSchema,
} from './tools/realtime-tool.decorator.js';
export * from './events/call-events.js';
