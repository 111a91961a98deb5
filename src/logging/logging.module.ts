import { Logger, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { serverConfig } from '../config/config.namespaces.js';
import type { ServerConfig } from '../config/config.namespaces.js';
import { logTransport } from './log-transport.js';
import { requestLogOptions } from './request-log.options.js';

/**
 * Structured JSON logs through nestjs-pino (pretty when NODE_ENV=development and pino-pretty is
 * installed: logTransport). Probes and scrapes are not logged: they would drown everything else.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [serverConfig.KEY],
      useFactory: (server: ServerConfig) => {
        const { transport, warning } = logTransport(process.env.NODE_ENV);
        // Nest holds this until the application's logger is in place: it comes out as a log line.
        if (warning) new Logger('Logging').warn(warning);
        return {
          pinoHttp: {
            // Under Jest the tests read the app's logs through their own logger; pino-http's
            // request lines would only bury the test report.
            ...requestLogOptions(process.env.NODE_ENV === 'test' ? 'silent' : server.logLevel),
            transport,
          },
        };
      },
    }),
  ],
})
export class LoggingModule {}
