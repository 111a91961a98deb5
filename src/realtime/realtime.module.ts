import { Module } from '@nestjs/common';
import { OpenAIRealtimeService } from './openai-realtime.service.js';

@Module({ providers: [OpenAIRealtimeService], exports: [OpenAIRealtimeService] })
export class RealtimeModule {}
