import type { DynamicModule, INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';

export interface BridgeOptions {
  /** Your own Nest modules: tools (`@RealtimeTool`), event handlers (`@OnEvent('call.*')`), per-call providers. */
  imports?: DynamicModule['imports'];
  logger?: LoggerService;
}

/**
 * The bridge as an application you can extend without forking it:
 *
 * ```ts
 * const app = await createBridgeApp({ imports: [MyToolsModule] });
 * app.enableShutdownHooks(['SIGTERM'], { useProcessExit: true });
 * await app.listen(8080);
 * ```
 */
export async function createBridgeApp(options: BridgeOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create(await AppModule.forRoot(options.imports), {
    bufferLogs: !options.logger,
    logger: options.logger,
    // Keep-alive HTTP connections must not hold the shutdown open.
    forceCloseConnections: true,
    // Throw start-up errors to the caller (main.ts reports them) instead of exiting here.
    abortOnError: false,
  });
  configureApp(app, { customLogger: options.logger !== undefined });
  return app;
}
