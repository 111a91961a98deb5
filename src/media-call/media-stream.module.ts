import { Module } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { TwilioModule } from '../twilio/twilio.module.js';
import { UpgradeRouterModule } from '../websocket/upgrade-router.module.js';
import { MediaStreamGateway } from './media-stream.gateway.js';
import { StreamStarter } from './stream-starter.service.js';

@Module({
  imports: [CallModule, TwilioModule, UpgradeRouterModule],
  providers: [MediaStreamGateway, StreamStarter],
  exports: [MediaStreamGateway],
})
export class MediaStreamModule {}
