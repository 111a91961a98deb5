import { Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { CallControlModule } from '../call-control/call-control.module.js';
import { BridgeHttpModule } from '../http/bridge-http.module.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { ToolsModule } from '../tools/tools.module.js';
import { TwilioRestModule } from '../twilio-rest/twilio-rest.module.js';
import { TwilioModule } from '../twilio/twilio.module.js';
import { ConsoleHistoryController } from '../history/console-history.controller.js';
import { HistoryModule } from '../history/history.module.js';
import { ConsoleRecordingController } from '../recording/recording.controller.js';
import { StreamRelayModule } from '../stream-relay/stream-relay.module.js';
import { CallMonitor } from './call-monitor.service.js';
import { ConsoleApiController } from './console-api.controller.js';
import { ConsoleAssets } from './console-assets.service.js';
import { ConsoleEnabledGuard } from './console-auth.guard.js';
import { ConsoleHeadersMiddleware } from './console-headers.middleware.js';
import { ConsoleSessionsModule } from './console-sessions.module.js';
import { ConsoleViewSource } from './console-view-source.js';
import { ConsoleController } from './console.controller.js';
import { LoginThrottle } from './login-throttle.service.js';
import { ProviderCheck } from './provider-check.service.js';
import { SetupChecks } from './setup-checks.service.js';

/**
 * The operator console at /console (with API_TOKEN): a page to set up, watch and steer live
 * calls, served by the bridge itself, and the data routes behind it under /console/api.
 */
@Module({
  imports: [
    BridgeHttpModule,
    CallModule,
    CallControlModule,
    ConsoleSessionsModule,
    RealtimeModule,
    ToolsModule,
    TwilioModule,
    TwilioRestModule,
    HistoryModule,
    StreamRelayModule,
  ],
  controllers: [ConsoleController, ConsoleApiController, ConsoleHistoryController],
  providers: [
    CallMonitor,
    ConsoleAssets,
    LoginThrottle,
    ConsoleEnabledGuard,
    SetupChecks,
    ProviderCheck,
    ConsoleViewSource,
  ],
})
export class ConsoleModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // By controller, not by path: Nest maps a controller to where it serves it, under the
    // global prefix and a RouterModule path alike; to a path given as a string it adds the
    // prefix only. The RouterModule path reaches these modules from TwilioBridgeModule's
    // configure() (BridgeMount), which Nest runs first: the bridge's module is registered
    // before the modules it imports.
    consumer
      .apply(ConsoleHeadersMiddleware)
      .forRoutes(
        ConsoleController,
        ConsoleApiController,
        ConsoleHistoryController,
        ConsoleRecordingController,
      );
  }
}
