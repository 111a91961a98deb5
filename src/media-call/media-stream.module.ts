import { Module } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { TwilioModule } from '../twilio/twilio.module.js';
import { MediaStreamAdapterCheck } from './media-stream-adapter.check.js';
import { MediaStreamGateway } from './media-stream.gateway.js';
import { StreamStarter } from './stream-starter.service.js';

@Module({
  imports: [CallModule, TwilioModule],
  providers: [MediaStreamGateway, MediaStreamAdapterCheck, StreamStarter],
  exports: [MediaStreamGateway],
})
export class MediaStreamModule {}
