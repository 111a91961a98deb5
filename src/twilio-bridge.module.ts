import { Module, type DynamicModule, type NestModule } from '@nestjs/common';
import { CallContextModule } from './call/call-context.module.js';
import { CallModule } from './call/call.module.js';
import { CallControlModule } from './call-control/call-control.module.js';
import { ClusterModule } from './directory/cluster.module.js';
import type { BridgeModuleOptions, TwilioBridgeOptions } from './config/bridge-options.js';
import {
  ASYNC_OPTIONS_TYPE,
  BridgeConfigModule,
  withModuleOptions,
} from './config/config.module.js';
import type { BridgeConfig } from './config/load-config.js';
import { CallEventsModule } from './events/call-events.module.js';
import { BridgeHttpModule } from './http/bridge-http.module.js';
import { BridgeMount } from './http/bridge-mount.service.js';
import { ListenModule } from './listen/listen.module.js';
import { HistoryModule } from './history/history.module.js';
import { MediaStreamModule } from './media-call/media-stream.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { RealtimeModule } from './realtime/realtime.module.js';
import { RecordingModule } from './recording/recording.module.js';
import { SipModule } from './sip-call/sip.module.js';
import { surfaceModules } from './surfaces.js';
import { ToolsModule } from './tools/tools.module.js';
import { TwilioModule } from './twilio/twilio.module.js';

/**
 * `forRootAsync`'s options: the settings from `useFactory` + `inject` + `imports`, or
 * `useClass`/`useExisting`; the surfaces and resolvers beside them, since they decide which
 * routes and providers exist before any factory runs.
 */
export type TwilioBridgeAsyncOptions = typeof ASYNC_OPTIONS_TYPE & BridgeModuleOptions;

/**
 * The bridge as a module to import into an application of your own, the way `@nestjs/config`
 * and `@nestjs/terminus` are imported: its webhooks, media WebSocket, call-control API, health
 * and metrics, with the tools and event handlers of every other module of the application.
 * Nothing else to call: the module attaches its WebSocket routes to the application's HTTP
 * server through its own upgrade router (the application keeps its WebSocket adapter), reads
 * its own routes' bodies, and serves under the application's global prefix or RouterModule path.
 *
 * ```ts
 * @Module({
 *   imports: [
 *     TwilioBridgeModule.forRoot({
 *       // An empty key is refused at start with a line saying so.
 *       openai: { apiKey: process.env.OPENAI_KEY ?? '', voice: 'marin' },
 *       twilio: { authToken: process.env.TWILIO_TOKEN ?? '' },
 *       surfaces: { console: false },
 *     }),
 *     MyToolsModule,
 *   ],
 * })
 * class AppModule {}
 * ```
 */
@Module({})
export class TwilioBridgeModule implements NestModule {
  constructor(private readonly mount: BridgeMount) {}

  /** Before Nest maps the routes: a RouterModule path given to this module reaches its controllers. */
  configure(): void {
    this.mount.adoptModulePath(TwilioBridgeModule);
  }

  /**
   * The settings given here, and only those (with the defaults), unless `env` asks for the
   * environment too; with nothing, the environment over `./.env`, as `npm start` reads it.
   */
  static forRoot(options?: TwilioBridgeOptions): DynamicModule {
    const { surfaces, settingsResolver, toolResolver, ...settings } = options ?? { env: true };
    return TwilioBridgeModule.with(BridgeConfigModule.forRoot(settings), {
      surfaces,
      settingsResolver,
      toolResolver,
    });
  }

  /** Settings from a factory that may inject other providers (`ConfigService`, say) and be async. */
  static forRootAsync(options: TwilioBridgeAsyncOptions): DynamicModule {
    const { surfaces, settingsResolver, toolResolver, ...async } = options;
    return TwilioBridgeModule.with(BridgeConfigModule.forRootAsync(async), {
      surfaces,
      settingsResolver,
      toolResolver,
    });
  }

  /** @internal The bridge on a configuration already loaded (createBridgeApp, `npm start`). */
  static withConfig(config: BridgeConfig, options: BridgeModuleOptions = {}): DynamicModule {
    return TwilioBridgeModule.with(BridgeConfigModule.preloaded(config), options);
  }

  private static with(config: DynamicModule, options: BridgeModuleOptions): DynamicModule {
    const { module, surfaces } = withModuleOptions(config, options);
    return {
      module: TwilioBridgeModule,
      imports: [...TwilioBridgeModule.core(module), ...surfaceModules(surfaces)],
    };
  }

  /** What every bridge has, whichever surfaces it serves. */
  private static core(config: DynamicModule): NonNullable<DynamicModule['imports']> {
    return [
      config,
      BridgeHttpModule,
      MetricsModule,
      ClusterModule,
      CallContextModule,
      CallEventsModule,
      ToolsModule,
      RealtimeModule,
      CallModule,
      TwilioModule,
      MediaStreamModule,
      CallControlModule,
      SipModule,
      HistoryModule,
      RecordingModule,
      ListenModule,
    ];
  }
}
