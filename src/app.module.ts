import { Module, type DynamicModule } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import type { BridgeConfig } from './config/load-config.js';
import { LoggingModule } from './logging/logging.module.js';
import { MAX_CALL_EVENT_LISTENERS } from './events/call-event-bus.js';
import { TwilioBridgeModule } from './twilio-bridge.module.js';

/**
 * The bridge as an application of its own (`createBridgeApp`, `npm start`): the bridge module,
 * structured logging, and a team's modules. Logging stays out of `TwilioBridgeModule`: an
 * application that imports the bridge keeps the request logging it already has. So does the
 * event emitter: this application brings its own, with wildcards, so a team's modules can
 * `@OnEvent('call.*')` and inject EventEmitter2.
 */
@Module({})
export class AppModule {
  static forRoot(config: BridgeConfig, extraModules: DynamicModule['imports'] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        EventEmitterModule.forRoot({
          wildcard: true,
          delimiter: '.',
          maxListeners: MAX_CALL_EVENT_LISTENERS,
        }),
        TwilioBridgeModule.forRoot({ config }),
        LoggingModule,
        ...extraModules,
      ],
    };
  }
}
