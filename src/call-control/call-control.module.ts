import { Module } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { TwilioRestModule } from '../twilio-rest/twilio-rest.module.js';
import { TwilioModule } from '../twilio/twilio.module.js';
import { CallControlService } from './call-control.service.js';

/**
 * Call control: the one service that acts on live calls (for the API, the console, the tools and
 * the other instances of a cluster). Its routes are a surface of their own (CallControlApiModule).
 */
@Module({
  imports: [CallModule, TwilioModule, TwilioRestModule],
  providers: [CallControlService],
  exports: [CallControlService],
})
export class CallControlModule {}
