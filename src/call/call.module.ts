import { Module, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { AudioModule } from '../audio/audio.module.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { TwilioRestModule } from '../twilio-rest/twilio-rest.module.js';
import { CallContext } from './call-context.js';
import { CallDrainService } from './call-drain.service.js';
import { CallPlans } from './call-plans.service.js';
import { CallSettingsService } from './call-settings.service.js';
import { CallRegistry } from './call-registry.service.js';
import { CallSessionFactory } from './call-session.factory.js';
import { CallSession } from './call-session.js';

@Module({
  imports: [AudioModule, RealtimeModule, TwilioRestModule],
  providers: [
    CallRegistry,
    CallDrainService,
    CallPlans,
    CallSettingsService,
    CallSessionFactory,
    CallSession,
    // Per call, the "request" of the call's DI context is its CallContext.
    {
      provide: CallContext,
      scope: Scope.REQUEST,
      useFactory: (call: CallContext) => call,
      inject: [REQUEST],
    },
  ],
  exports: [CallRegistry, CallSessionFactory, CallContext, CallPlans, CallSettingsService],
})
export class CallModule {}
