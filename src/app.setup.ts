import type { INestApplication, LogLevel as NestLogLevel } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger as PinoLogger } from 'nestjs-pino';
import {
  openaiConfig,
  serverConfig,
  twilioConfig,
  type OpenAIConfig,
  type ServerConfig,
  type TwilioConfig,
} from './config/config.namespaces.js';
import type { ResolvedSurfaces } from './config/bridge-options.js';
import { BRIDGE_SURFACES } from './config/config.module.js';
import type { LogLevel } from './config/env.schema.js';
import { QuietStartupLogger } from './logging/quiet-startup.logger.js';
import { MediaStreamWsAdapter } from './media-call/media-stream-ws.adapter.js';
import { MediaStreamGateway } from './media-call/media-stream.gateway.js';
import { isLocalEnvironment, mediaStreamUrl } from './twilio/public-url.js';
import { useSipWebhookBody } from './sip-call/sip.module.js';
import { useBodyParsers, useHttpBounds } from './http/http-server.js';

const NEST_LEVELS: Record<LogLevel, NestLogLevel[]> = {
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/** The bridge's setting of this application (each application has its own). */
function setting<T>(app: INestApplication, token: string): T {
  // Through ModuleRef: a failed `app.get` exits the process (Nest's abortOnError) before this
  // could say what is missing.
  try {
    return app.get(ModuleRef).get<string, T>(token, { strict: false });
  } catch {
    throw new Error(
      'useTwilioBridge(app): this application does not import the bridge; add TwilioBridgeModule.forRoot(...) or TwilioBridgeModule.forRootAsync(...) to the imports of its module',
    );
  }
}

/**
 * Installs what the bridge needs of the application itself, before `app.listen()`: the
 * WebSocket adapter for Twilio's media streams, which vets each upgrade (signature, capacity,
 * the unauthenticated pool) before a socket exists; the HTTP server's timeouts and body bounds
 * (HTTP_REQUEST_TIMEOUT_MS, HTTP_HEADERS_TIMEOUT_MS, MAX_HTTP_BODY_BYTES); the API docs at `/docs` when API_DOCS is
 * on; warnings for a configuration that works but is unsafe. The application's logger and
 * its other settings stay its own.
 *
 * ```ts
 * const app = await NestFactory.create(AppModule); // AppModule imports TwilioBridgeModule
 * useTwilioBridge(app);
 * await app.listen(8080);
 * ```
 */
export function useTwilioBridge(app: INestApplication): INestApplication {
  const server = setting<ServerConfig>(app, serverConfig.KEY);
  const twilio = setting<TwilioConfig>(app, twilioConfig.KEY);
  const gateway = app.get(MediaStreamGateway);
  app.useWebSocketAdapter(new MediaStreamWsAdapter(app, (req) => gateway.verifyUpgrade(req)));
  // Ahead of every body reader: the early 413 and closing refused connections (src/http/).
  useHttpBounds(app, server);
  if (setting<ResolvedSurfaces>(app, BRIDGE_SURFACES).sipWebhook) {
    useSipWebhookBody(app, setting<OpenAIConfig>(app, openaiConfig.KEY));
  }

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
  if (server.publicUrl?.startsWith('http://') && !isLocalEnvironment()) {
    new Logger('Security').warn(
      `PUBLIC_URL=${server.publicUrl} gives Twilio a ws:// Stream URL (${mediaStreamUrl(server.publicUrl)}), but Twilio connects only to wss:// (error 31922): use an https:// PUBLIC_URL`,
    );
  }
  if (!twilio.validateSignatures) {
    new Logger('Security').warn(
      'TWILIO_VALIDATE_SIGNATURES=false: Twilio signatures and stream tokens are NOT checked; anyone can open calls on this bridge',
    );
  }
  return app;
}

export interface AppSetupOptions {
  /** A logger of the caller's (tests); otherwise the structured pino logger. */
  customLogger?: boolean;
}

/**
 * The bridge as an application of its own (`createBridgeApp`, so `main.ts` and the tests): its
 * logging at LOG_LEVEL, then `useTwilioBridge`.
 */
export function configureApp(app: INestApplication, options: AppSetupOptions = {}): void {
  const level = setting<ServerConfig>(app, serverConfig.KEY).logLevel;
  if (options.customLogger) app.useLogger(NEST_LEVELS[level]);
  else app.useLogger(new QuietStartupLogger(app.get(PinoLogger)));
  // Nest's own level filter also decides what `Logger.isLevelEnabled` says (cheap debug checks).
  Logger.overrideLogger(NEST_LEVELS[level]);
  useTwilioBridge(app);
  // After the bridge's own body readers (createBridgeApp turns Nest's default parsers off).
  useBodyParsers(app);
}
