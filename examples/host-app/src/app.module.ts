import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TwilioBridgeModule } from 'twilio-realtime-bridge';
import { ChatGateway } from './chat.gateway.js';
import { OrderStatusModule } from './order-status.module.js';
import { StatusController } from './status.controller.js';

/**
 * The team's app: its own event emitter, socket.io gateway and REST route, the bridge (settings
 * from the environment over ./.env, as the standalone service reads them) and one tool module.
 */
@Module({
  imports: [
    EventEmitterModule.forRoot({ wildcard: true }),
    TwilioBridgeModule.forRoot(),
    OrderStatusModule,
  ],
  controllers: [StatusController],
  providers: [ChatGateway],
})
export class AppModule {}
