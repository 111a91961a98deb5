import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CallModule } from '../call/call.module.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { HealthController } from './health.controller.js';

@Module({ imports: [TerminusModule, CallModule, RealtimeModule], controllers: [HealthController] })
export class HealthModule {}
