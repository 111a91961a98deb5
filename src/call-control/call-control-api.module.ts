import { Module } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { ApiTokenGuard } from '../http/api-token.guard.js';
import { TwilioRestModule } from '../twilio-rest/twilio-rest.module.js';
import { TwilioModule } from '../twilio/twilio.module.js';
import { CallControlController } from './call-control.controller.js';
import { CallControlModule } from './call-control.module.js';

/** The `callControl` surface's routes that place, hang up and transfer calls (`/api/calls`). */
@Module({
  imports: [CallModule, CallControlModule, TwilioModule, TwilioRestModule],
  controllers: [CallControlController],
  providers: [ApiTokenGuard],
})
export class CallControlApiModule {}
