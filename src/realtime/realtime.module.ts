import { Module } from '@nestjs/common';
import { OpenAIRealtimeService } from './openai-realtime.service.js';
import { RealtimeHealth } from './realtime-health.service.js';

@Module({
  providers: [OpenAIRealtimeService, RealtimeHealth],
  exports: [OpenAIRealtimeService, RealtimeHealth],
})
export class RealtimeModule {}
