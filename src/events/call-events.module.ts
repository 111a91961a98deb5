import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AppEventDelivery } from './app-event-delivery.service.js';
import { CallEventBus } from './call-event-bus.js';
import { CallEventsWebhookService } from './call-events-webhook.service.js';

/**
 * Call events: the bridge's own bus (global within the bridge: calls, the directory, the console
 * and the API all use it), delivery to the application's handlers, and the events webhook. No
 * `EventEmitterModule.forRoot()` here: the application's EventEmitter2, if any, stays the only one.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [CallEventBus, AppEventDelivery, CallEventsWebhookService],
  exports: [CallEventBus],
})
export class CallEventsModule {}
