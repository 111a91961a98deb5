import { Module } from '@nestjs/common';
import { AudioModule } from '../audio/audio.module.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { TwilioRestModule } from '../twilio-rest/twilio-rest.module.js';
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
  ],
  exports: [CallRegistry, CallSessionFactory, CallPlans, CallSettingsService],
})
export class CallModule {}
