import { Module } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { TwilioRestModule } from '../twilio-rest/twilio-rest.module.js';
import { TwilioModule } from '../twilio/twilio.module.js';
import { ApiTokenGuard } from './api-token.guard.js';
import { CallControlHandler } from './call-control.handler.js';
import { CallEventFollowers } from './call-event-followers.service.js';
import { CallEventHistory } from './call-event-history.service.js';
import { CallsController } from './calls.controller.js';

@Module({
  imports: [CallModule, TwilioModule, TwilioRestModule],
  controllers: [CallsController],
  providers: [ApiTokenGuard, CallEventFollowers, CallEventHistory, CallControlHandler],
})
export class CallsModule {}
