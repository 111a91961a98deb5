import { Module } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { TwilioModule } from '../twilio/twilio.module.js';
import { MediaStreamAdapterCheck } from './media-stream-adapter.check.js';
import { MediaStreamGateway } from './media-stream.gateway.js';

@Module({
  imports: [CallModule, TwilioModule],
  providers: [MediaStreamGateway, MediaStreamAdapterCheck],
  exports: [MediaStreamGateway],
})
export class MediaStreamModule {}
