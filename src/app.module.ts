import { Module, type DynamicModule } from '@nestjs/common';
import { CallContextModule } from './call/call-context.module.js';
import { CallModule } from './call/call.module.js';
import { CallsModule } from './calls/calls.module.js';
import { AppConfigModule } from './config/config.module.js';
import { loadBridgeConfig, type BridgeConfig } from './config/load-config.js';
import { CallEventsModule } from './events/call-events.module.js';
import { HealthModule } from './health/health.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { MediaStreamModule } from './media-stream/media-stream.module.js';
import { RealtimeModule } from './realtime/realtime.module.js';
import { SipModule } from './sip/sip.module.js';
import { ToolsModule } from './tools/tools.module.js';
import { TwilioModule } from './twilio/twilio.module.js';

@Module({})
export class AppModule {
  /**
   * The bridge with its configuration (default: the environment over `./.env`). A function
   * rather than a static `@Module` so that configuration is read when the app is built (tests
   * build several, each with its own).
   */
  static async forRoot(
    extraModules: DynamicModule['imports'] = [],
    config: BridgeConfig = loadBridgeConfig(),
  ): Promise<DynamicModule> {
    const sipTransport = config.env.OPENAI_WEBHOOK_SECRET ? [SipModule] : [];
    return {
      module: AppModule,
      imports: [
        await AppConfigModule.forRoot(config),
        LoggingModule,
        MetricsModule,
        CallContextModule,
        CallEventsModule,
        ToolsModule,
        RealtimeModule,
        CallModule,
        TwilioModule,
        MediaStreamModule,
        HealthModule,
        CallsModule,
        ...sipTransport,
        ...extraModules,
      ],
    };
  }
}
