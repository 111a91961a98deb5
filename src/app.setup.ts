import type { INestApplication, LogLevel as NestLogLevel } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger as PinoLogger } from 'nestjs-pino';
import { serverConfig, type ServerConfig } from './config/config.namespaces.js';
import type { LogLevel } from './config/env.schema.js';
import { QuietStartupLogger } from './logging/quiet-startup.logger.js';
import { useBodyParsers, useHttpBounds } from './http/http-server.js';

const NEST_LEVELS: Record<LogLevel, NestLogLevel[]> = {
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/**
 * @deprecated Nothing to do any more: `TwilioBridgeModule` attaches its media WebSocket through
 * its own upgrade router (the application keeps its WebSocket adapter), reads its routes'
 * bodies and sets the HTTP server's timeouts itself, and warns about unsafe settings at start.
 * Kept so that code written for earlier versions still compiles; returns `app` unchanged.
 */
export function useTwilioBridge(app: INestApplication): INestApplication {
  return app;
}

export interface AppSetupOptions {
  /** A logger of the caller's (tests); otherwise the structured pino logger. */
  customLogger?: boolean;
}

/**
 * The bridge as an application of its own (`createBridgeApp`, so `main.ts` and the tests): the
 * choices a host application makes for itself, made here for the standalone service. Its
 * logging at LOG_LEVEL; body bounds and parsers on every route (the only routes are the
 * bridge's and a team's modules'); Express's `trust proxy` as TRUST_PROXY says; the API docs at
 * `/docs` when API_DOCS is on (they describe the whole application, so they are the host's).
 */
export function configureApp(app: INestApplication, options: AppSetupOptions = {}): void {
  const server = app.get(ModuleRef).get<string, ServerConfig>(serverConfig.KEY, { strict: false });
  if (options.customLogger) app.useLogger(NEST_LEVELS[server.logLevel]);
  else app.useLogger(new QuietStartupLogger(app.get(PinoLogger)));
  // Nest's own level filter also decides what `Logger.isLevelEnabled` says (cheap debug checks).
  Logger.overrideLogger(NEST_LEVELS[server.logLevel]);
  // Ahead of every body reader but the bridge's own (src/http/).
  useHttpBounds(app, server);
  // After the bridge's own body readers (createBridgeApp turns Nest's default parsers off).
  useBodyParsers(app);
  if (server.apiDocs) {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('twilio-realtime-bridge')
        .setDescription('Call control, health and metrics of the Twilio <-> OpenAI Realtime bridge')
        .addBearerAuth()
        .build(),
    );
    SwaggerModule.setup('docs', app, document);
  }
}
