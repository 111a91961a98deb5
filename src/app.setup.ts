import type { INestApplication, LogLevel as NestLogLevel } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { LogLevel } from './config/env.schema.js';
import { MediaStreamWsAdapter } from './media-stream/media-stream-ws.adapter.js';
import { MediaStreamGateway } from './media-stream/media-stream.gateway.js';

const NEST_LEVELS: Record<LogLevel, NestLogLevel[]> = {
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

export function nestLogLevels(level: LogLevel): NestLogLevel[] {
  return NEST_LEVELS[level];
}

/** Wiring shared by `main.ts` and the end-to-end tests, so both run the same application. */
export function configureApp(app: INestApplication): void {
  const config = app.get(ConfigService);
  app.useLogger(nestLogLevels(config.getOrThrow<LogLevel>('server.logLevel')));
  const gateway = app.get(MediaStreamGateway);
  app.useWebSocketAdapter(new MediaStreamWsAdapter(app, (req) => gateway.verifyUpgrade(req)));
  if (!config.getOrThrow<boolean>('twilio.validateSignatures')) {
    new Logger('Security').warn(
      'TWILIO_VALIDATE_SIGNATURES=false: Twilio signatures and stream tokens are NOT checked; anyone can open calls on this bridge',
    );
  }
}
