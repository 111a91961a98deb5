import { Module, type DynamicModule } from '@nestjs/common';
import { CallContextModule } from './call/call-context.module.js';
import { CallModule } from './call/call.module.js';
import { CallsModule } from './calls/calls.module.js';
import { ClusterModule } from './cluster/cluster.module.js';
import { AppConfigModule } from './config/config.module.js';
import { CallEventsModule } from './events/call-events.module.js';
import { HealthModule } from './health/health.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { MediaStreamModule } from './media-stream/media-stream.module.js';
import { RealtimeModule } from './realtime/realtime.module.js';
import { ToolsModule } from './tools/tools.module.js';
import { TwilioModule } from './twilio/twilio.module.js';

@Module({})
export class AppModule {
  /**
   * The bridge, configured from the environment. A function rather than a static `@Module` so
   * that configuration is read when the app is built (tests build several, each with its own).
   */
  static async forRoot(extraModules: DynamicModule['imports'] = []): Promise<DynamicModule> {
    return {
      module: AppModule,
      imports: [
        await AppConfigModule.forRoot(),
        LoggingModule,
        MetricsModule,
        ClusterModule,
        CallContextModule,
        CallEventsModule,
        ToolsModule,
        RealtimeModule,
        CallModule,
        TwilioModule,
        MediaStreamModule,
        HealthModule,
        CallsModule,
        ...extraModules,
      ],
    };
  }
}
