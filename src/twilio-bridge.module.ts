import { Module, type DynamicModule } from '@nestjs/common';
import { CallContextModule } from './call/call-context.module.js';
import { CallModule } from './call/call.module.js';
import { CallControlModule } from './call-control/call-control.module.js';
import { CallsModule } from './live-calls/calls.module.js';
import { ClusterModule } from './directory/cluster.module.js';
import {
  ASYNC_OPTIONS_TYPE,
  BridgeConfigModule,
  type TwilioBridgeOptions,
} from './config/config.module.js';
import { CallEventsModule } from './events/call-events.module.js';
import { ConsoleModule } from './console/console.module.js';
import { HealthModule } from './health/health.module.js';
import { HistoryModule } from './history/history.module.js';
import { MediaStreamModule } from './media-call/media-stream.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { RealtimeModule } from './realtime/realtime.module.js';
import { SipModule } from './sip-call/sip.module.js';
import { ToolsModule } from './tools/tools.module.js';
import { TwilioModule } from './twilio/twilio.module.js';

/** `forRootAsync`'s options: `useFactory` + `inject` + `imports`, or `useClass`/`useExisting`. */
export type TwilioBridgeAsyncOptions = typeof ASYNC_OPTIONS_TYPE;

/**
 * The bridge as a module to import into an application of your own, the way `@nestjs/config`
 * and `@nestjs/terminus` are imported: its webhooks, media WebSocket, call-control API, health
 * and metrics, with the tools and event handlers of every other module of the application.
 * The application then needs `useTwilioBridge(app)` before it listens.
 *
 * ```ts
 * @Module({ imports: [TwilioBridgeModule.forRoot({ settings: { OPENAI_VOICE: 'marin' } }), MyToolsModule] })
 * class AppModule {}
 * ```
 */
@Module({})
export class TwilioBridgeModule {
  /** Settings given here, or (by default) read from the environment over `./.env`. */
  static forRoot(options: TwilioBridgeOptions = {}): DynamicModule {
    return TwilioBridgeModule.with(BridgeConfigModule.forRoot(options));
  }

  /** Settings from a factory that may inject other providers (`ConfigService`, say) and be async. */
  static forRootAsync(options: TwilioBridgeAsyncOptions): DynamicModule {
    return TwilioBridgeModule.with(BridgeConfigModule.forRootAsync(options));
  }

  private static with(config: DynamicModule): DynamicModule {
    return {
      module: TwilioBridgeModule,
      imports: [
        config,
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
        CallControlModule,
        CallsModule,
        SipModule,
        ConsoleModule,
        HistoryModule,
      ],
    };
  }
}
