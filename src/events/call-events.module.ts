import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { CallEventsWebhookService } from './call-events-webhook.service.js';

@Module({
  imports: [EventEmitterModule.forRoot({ wildcard: true, delimiter: '.' })],
  providers: [CallEventsWebhookService],
})
export class CallEventsModule {}
