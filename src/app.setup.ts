import type { INestApplication, LogLevel as NestLogLevel } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger as PinoLogger } from 'nestjs-pino';
import type { LogLevel } from './config/env.schema.js';
import { QuietStartupLogger } from './logging/quiet-startup.logger.js';
import { MediaStreamWsAdapter } from './media-stream/media-stream-ws.adapter.js';
import { MediaStreamGateway } from './media-stream/media-stream.gateway.js';
import { isLocalEnvironment, mediaStreamUrl } from './twilio/public-url.js';
import { useSipWebhookBody } from './sip/sip.module.js';

const NEST_LEVELS: Record<LogLevel, NestLogLevel[]> = {
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

export interface AppSetupOptions {
  /** A logger of the caller's (tests); otherwise the structured pino logger. */
  customLogger?: boolean;
}

/** Wiring shared by `main.ts`, `createBridgeApp` and the tests, so all run the same application. */
export function configureApp(app: INestApplication, options: AppSetupOptions = {}): void {
  const config = app.get(ConfigService);
  const level = config.getOrThrow<LogLevel>('server.logLevel');
  if (options.customLogger) app.useLogger(NEST_LEVELS[level]);
  else app.useLogger(new QuietStartupLogger(app.get(PinoLogger)));
  // Nest's own level filter also decides what `Logger.isLevelEnabled` says (cheap debug checks).
  Logger.overrideLogger(NEST_LEVELS[level]);
  const gateway = app.get(MediaStreamGateway);
  app.useWebSocketAdapter(new MediaStreamWsAdapter(app, (req) => gateway.verifyUpgrade(req)));
  useSipWebhookBody(app);
  if (config.getOrThrow<boolean>('server.apiDocs')) {
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
  const publicUrl = config.get<string>('server.publicUrl');
  if (publicUrl?.startsWith('http://') && !isLocalEnvironment()) {
    new Logger('Security').warn(
      `PUBLIC_URL=${publicUrl} gives Twilio a ws:// Stream URL (${mediaStreamUrl(publicUrl)}), but Twilio connects only to wss:// (error 31922): use an https:// PUBLIC_URL`,
    );
  }
  if (!config.getOrThrow<boolean>('twilio.validateSignatures')) {
    new Logger('Security').warn(
      'TWILIO_VALIDATE_SIGNATURES=false: Twilio signatures and stream tokens are NOT checked; anyone can open calls on this bridge',
    );
  }
}
