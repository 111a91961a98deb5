import { Module } from '@nestjs/common';
import { CallAudioTap } from './call-audio-tap.js';
import { CallAudioTaps } from './call-audio-taps.service.js';

/** Hearing media-stream calls: the application-wide CallAudioTaps and each call's CallAudioTap. */
@Module({
  providers: [CallAudioTaps, CallAudioTap],
  exports: [CallAudioTaps, CallAudioTap],
})
export class CallAudioModule {}
