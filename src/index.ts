// The public API for teams that extend the bridge with their own Nest modules.
export { bootstrapBridge, type BootstrapOptions } from './bootstrap.js';
export { createBridgeApp, type BridgeOptions } from './bridge.js';
export {
  loadBridgeConfig,
  type BridgeConfig,
  type LoadConfigOptions,
} from './config/load-config.js';
export { ConfigValidationError, type ParsedEnv } from './config/env.schema.js';
export { AppModule } from './app.module.js';
export { CallContext, type TranscriptTurn } from './call/call-context.js';
export {
  RealtimeTool,
  type RealtimeToolOptions,
  type JsonSchema,
} from './tools/realtime-tool.decorator.js';
export { ToolRegistry, type ToolHandler } from './tools/tool-registry.service.js';
export * from './events/call-events.js';
