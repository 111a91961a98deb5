import { Module } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { ApiTokenGuard } from '../http/api-token.guard.js';
import { CallEventFollowers } from './call-event-followers.service.js';
import { CallEventHistory } from './call-event-history.service.js';
import { CallEventsSource } from './call-events-source.js';
import { CallsController } from './calls.controller.js';
import { StreamRelayModule } from '../stream-relay/stream-relay.module.js';

@Module({
  imports: [CallModule, StreamRelayModule],
  controllers: [CallsController],
  providers: [ApiTokenGuard, CallEventFollowers, CallEventHistory, CallEventsSource],
})
export class CallsModule {}
