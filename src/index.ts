// The public API for teams that extend the bridge with their own Nest modules.
export { createBridgeApp, type BridgeOptions } from './bridge.js';
export { AppModule } from './app.module.js';
export { CallContext, type TranscriptTurn } from './call/call-context.js';
export {
  RealtimeTool,
  type RealtimeToolOptions,
  type JsonSchema,
} from './tools/realtime-tool.decorator.js';
export { ToolRegistry, type ToolHandler } from './tools/tool-registry.service.js';
export * from './events/call-events.js';
