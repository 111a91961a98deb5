import { Module } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { ApiTokenGuard } from '../http/api-token.guard.js';
import { TwilioRestModule } from '../twilio-rest/twilio-rest.module.js';
import { TwilioModule } from '../twilio/twilio.module.js';
import { CallControlController } from './call-control.controller.js';
import { CallControlService } from './call-control.service.js';

/**
 * Call control: the one service that acts on live calls (for the API, the console and the other
 * instances of a cluster) and the API's routes that place, hang up and transfer calls.
 */
@Module({
  imports: [CallModule, TwilioModule, TwilioRestModule],
  controllers: [CallControlController],
  providers: [ApiTokenGuard, CallControlService],
  exports: [CallControlService],
})
export class CallControlModule {}
