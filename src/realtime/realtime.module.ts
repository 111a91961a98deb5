import { Module } from '@nestjs/common';
import { OpenAIRealtimeService } from './openai-realtime.service.js';
import { RealtimeCredentials } from './realtime-credentials.service.js';
import { RealtimeHealth } from './realtime-health.service.js';

@Module({
  providers: [OpenAIRealtimeService, RealtimeHealth, RealtimeCredentials],
  exports: [OpenAIRealtimeService, RealtimeHealth, RealtimeCredentials],
})
export class RealtimeModule {}
