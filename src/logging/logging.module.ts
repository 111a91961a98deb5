import { Module } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import { serverConfig } from '../config/config.namespaces.js';
import type { ServerConfig } from '../config/config.namespaces.js';

/** Paths pino blanks out wherever they appear: no secret reaches a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-twilio-signature"]',
  // OpenAI's webhook signature (a MAC, not the secret, but no more use in a log than Twilio's).
  'req.headers["webhook-signature"]',
  'req.headers.cookie',
  'req.headers["api-key"]',
  'res.headers["set-cookie"]',
];

const QUIET_PATHS = /^\/(health|metrics)(\/|\?|$)/;

/**
 * Structured JSON logs through nestjs-pino (pretty when NODE_ENV=development). Probes and
 * scrapes are not logged: they would drown everything else.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [serverConfig.KEY],
      useFactory: (server: ServerConfig) => ({
        pinoHttp: {
          // Under Jest the tests read the app's logs through their own logger; pino-http's
          // request lines would only bury the test report.
          level: process.env.NODE_ENV === 'test' ? 'silent' : server.logLevel,
          redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
          autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.test(req.url ?? '') },
          transport:
            process.env.NODE_ENV === 'development'
              ? {
                  target: 'pino-pretty',
                  options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' },
                }
              : undefined,
        },
      }),
    }),
  ],
})
export class LoggingModule {}
