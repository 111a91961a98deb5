import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import {
  audioConfig,
  callControlConfig,
  clusterConfig,
  limitsConfig,
  openaiConfig,
  serverConfig,
  twilioConfig,
} from './config.namespaces.js';
import { parseEnv } from './env.schema.js';

@Module({})
export class AppConfigModule {
  /** Validates the environment once (every problem listed) and exposes the typed namespaces. */
  static async forRoot(): Promise<DynamicModule> {
    return {
      module: AppConfigModule,
      global: true,
      imports: [
        await ConfigModule.forRoot({
          cache: true,
          // Tests set their environment explicitly; a developer's .env must not leak into them.
          ignoreEnvFile: process.env.NODE_ENV === 'test',
          load: [
            serverConfig,
            openaiConfig,
            audioConfig,
            twilioConfig,
            limitsConfig,
            callControlConfig,
            clusterConfig,
          ],
          validate: (raw) => {
            parseEnv(raw);
            return raw;
          },
        }),
      ],
      exports: [ConfigModule],
    };
  }
}
