import { Module, Scope } from '@nestjs/common';
import { AudioModule } from '../audio/audio.module.js';
import { CallAudioModule } from '../call-audio/call-audio.module.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { TwilioRestModule } from '../twilio-rest/twilio-rest.module.js';
import { CallDrainService } from './call-drain.service.js';
import { CallPlans } from './call-plans.service.js';
import { CallSettingsService } from './call-settings.service.js';
import { CallResolvers } from './call-resolvers.service.js';
import { CallRegistry } from './call-registry.service.js';
import { BargeIn } from '../media-call/barge-in.js';
import { SessionSetup } from '../media-call/session-setup.js';
import { CallOrchestrator } from '../media-call/call-orchestrator.js';
import { sharedCallParts } from './call-parts.js';
import { CALL_BARGE_IN, CALL_CHANNEL, CALL_LINE, CALL_PLAYBACK } from './call-transport.js';
import { CallFactory } from '../media-call/call.factory.js';
import { RealtimeLinkEvents } from './link-events.js';
import { RealtimeLink } from '../media-call/realtime-link.js';
import { TwilioCallLine } from '../media-call/twilio-call-line.js';
import { TwilioMediaLink } from '../media-call/twilio-media-link.js';
import { Takeover } from '../media-call/takeover.js';
import { Takeovers } from '../media-call/takeovers.service.js';

@Module({
  imports: [AudioModule, CallAudioModule, RealtimeModule, TwilioRestModule],
  providers: [
    CallRegistry,
    CallDrainService,
    CallPlans,
    CallSettingsService,
    CallResolvers,
    CallFactory,
    Takeovers,
    // Per call (Scope.REQUEST), resolved together in the call's own DI context:
    ...sharedCallParts,
    CallOrchestrator,
    TwilioMediaLink,
    RealtimeLink,
    RealtimeLinkEvents,
    TwilioCallLine,
    SessionSetup,
    BargeIn,
    Takeover,
    // ...and what the shared parts run on for a media call (see call-transport.ts):
    { provide: CALL_CHANNEL, useExisting: RealtimeLink },
    {
      provide: CALL_PLAYBACK,
      scope: Scope.REQUEST,
      useFactory: (media: TwilioMediaLink) => media.playback,
      inject: [TwilioMediaLink],
    },
    { provide: CALL_LINE, useExisting: TwilioCallLine },
    { provide: CALL_BARGE_IN, useExisting: BargeIn },
  ],
  exports: [CallRegistry, CallFactory, CallPlans, CallSettingsService, Takeovers],
})
export class CallModule {}
