import { Module, type DynamicModule } from '@nestjs/common';
import type { BridgeConfig } from './config/load-config.js';
import { LoggingModule } from './logging/logging.module.js';
import { TwilioBridgeModule } from './twilio-bridge.module.js';

/**
 * The bridge as an application of its own (`createBridgeApp`, `npm start`): the bridge module,
 * structured logging, and a team's modules. Logging stays out of `TwilioBridgeModule`: an
 * application that imports the bridge keeps the request logging it already has.
 */
@Module({})
export class AppModule {
  static forRoot(config: BridgeConfig, extraModules: DynamicModule['imports'] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [TwilioBridgeModule.withConfig(config), LoggingModule, ...extraModules],
    };
  }
}
