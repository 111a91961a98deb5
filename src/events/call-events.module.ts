import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { CallEventsWebhookService } from './call-events-webhook.service.js';

@Module({
  imports: [
    // One listener per SSE follower: many may follow calls at once.
    EventEmitterModule.forRoot({ wildcard: true, delimiter: '.', maxListeners: 1000 }),
  ],
  providers: [CallEventsWebhookService],
})
export class CallEventsModule {}
