import { Module } from '@nestjs/common';
import { StreamStatusController } from './stream-status.controller.js';
import { TwilioModule } from './twilio.module.js';

/** The `statusCallback` surface: where Twilio reports the media stream's life. */
@Module({ imports: [TwilioModule], controllers: [StreamStatusController] })
export class StreamStatusModule {}
