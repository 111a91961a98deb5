import type { DynamicModule, INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { loadBridgeConfig, type BridgeConfig } from './config/load-config.js';
import { QuietStartupLogger } from './logging/quiet-startup.logger.js';
import { discardStartupLogs } from './logging/startup-log-buffer.js';

export interface BridgeOptions {
  /** Your own Nest modules: tools (`@RealtimeTool`), event handlers (`@OnEvent('call.*')`), per-call providers. */
  imports?: DynamicModule['imports'];
  /** A logger of your own instead of the structured pino logger. */
  logger?: LoggerService;
  /** Configuration already loaded with `loadBridgeConfig`; default: the environment over `./.env`. */
  config?: BridgeConfig;
}

/**
 * The bridge as a Nest application you can extend without forking it: `TwilioBridgeModule`,
 * structured logging and your modules, with the choices a host application makes for itself
 * (configureApp; Nest's `ws` adapter for any WebSocket gateway of yours: the bridge's own
 * socket does not need it). It does not listen yet, and installs no process handlers:
 * `bootstrapBridge` does both, as `src/main.ts` runs it. If creating the application fails, the
 * error is thrown and Nest's start-up lines buffered until then (Nest keeps one buffer per
 * process) are dropped: the caller reports the error, as `bootstrapBridge` does in one line.
 */
export async function createBridgeApp(options: BridgeOptions = {}): Promise<INestApplication> {
  const config = options.config ?? loadBridgeConfig();
  let app: INestApplication;
  try {
    app = await NestFactory.create(AppModule.forRoot(config, options.imports), {
      bufferLogs: !options.logger,
      // Flushed below once the application's logger is in place; a failed start discards
      // them instead, so that its reason is the one line the operator sees (bootstrapBridge).
      autoFlushLogs: false,
      logger: options.logger && new QuietStartupLogger(options.logger),
      // Keep-alive HTTP connections must not hold the shutdown open.
      forceCloseConnections: true,
      // configureApp installs the parsers itself, limited to MAX_HTTP_BODY_BYTES, after the
      // bridge's own body readers.
      bodyParser: false,
      // Throw start-up errors to the caller (bootstrapBridge reports them) instead of exiting here.
      abortOnError: false,
    });
    app.useWebSocketAdapter(new WsAdapter(app));
    configureApp(app, { customLogger: options.logger !== undefined });
  } catch (error) {
    discardStartupLogs();
    throw error;
  }
  app.flushLogs();
  return app;
}
