import { Module } from '@nestjs/common';
import { AudioModule } from '../audio/audio.module.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { TwilioRestModule } from '../twilio-rest/twilio-rest.module.js';
import { CallDrainService } from './call-drain.service.js';
import { CallPlans } from './call-plans.service.js';
import { CallSettingsService } from './call-settings.service.js';
import { CallRegistry } from './call-registry.service.js';
import { BargeIn } from './barge-in.js';
import { CallEnding } from './call-ending.js';
import { Keypad } from './keypad.js';
import { SessionSetup } from './session-setup.js';
import { CallOrchestrator } from './call-orchestrator.js';
import { callValueProviders } from './call-providers.js';
import { CallRecorder } from './call-recorder.js';
import { CallFactory } from './call.factory.js';
import { RealtimeLink } from './realtime-link.js';
import { ResponseScheduler } from './response-scheduler.js';
import { ToolCallCoordinator } from './tool-calls.js';
import { TwilioMediaLink } from './twilio-media-link.js';

@Module({
  imports: [AudioModule, RealtimeModule, TwilioRestModule],
  providers: [
    CallRegistry,
    CallDrainService,
    CallPlans,
    CallSettingsService,
    CallFactory,
    // Per call (Scope.REQUEST), resolved together in the call's own DI context:
    ...callValueProviders,
    CallOrchestrator,
    TwilioMediaLink,
    RealtimeLink,
    ResponseScheduler,
    ToolCallCoordinator,
    CallEnding,
    CallRecorder,
    SessionSetup,
    BargeIn,
    Keypad,
  ],
  exports: [CallRegistry, CallFactory, CallPlans, CallSettingsService],
})
export class CallModule {}
