import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { serverConfig } from '../config/config.namespaces.js';
import type { ServerConfig } from '../config/config.namespaces.js';
import { requestLogOptions } from './request-log.options.js';

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
          ...requestLogOptions(process.env.NODE_ENV === 'test' ? 'silent' : server.logLevel),
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
