import { Module } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { ApiTokenGuard } from '../http/api-token.guard.js';
import { CallEventFollowers } from './call-event-followers.service.js';
import { CallEventHistory } from './call-event-history.service.js';
import { CallsController } from './calls.controller.js';

@Module({
  imports: [CallModule],
  controllers: [CallsController],
  providers: [ApiTokenGuard, CallEventFollowers, CallEventHistory],
})
export class CallsModule {}
