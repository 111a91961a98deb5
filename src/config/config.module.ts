import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { configFactories } from './config.namespaces.js';
import type { BridgeConfig } from './load-config.js';

@Module({})
export class AppConfigModule {
  /**
   * Exposes the typed namespaces of a configuration that `loadBridgeConfig` already read and
   * validated: ConfigModule reads no file and validates nothing a second time.
   */
  static async forRoot(config: BridgeConfig): Promise<DynamicModule> {
    return {
      module: AppConfigModule,
      global: true,
      imports: [
        await ConfigModule.forRoot({
          cache: true,
          ignoreEnvFile: true,
          load: configFactories(config.env),
        }),
      ],
      exports: [ConfigModule],
    };
  }
}
