import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CallModule } from '../call/call.module.js';
import { HistoryModule } from '../history/history.module.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { HealthController } from './health.controller.js';

@Module({
  // Readiness changes are logged once by the controller (ReadinessLog), not every failed probe.
  imports: [TerminusModule.forRoot({ logger: false }), CallModule, HistoryModule, RealtimeModule],
  controllers: [HealthController],
})
export class HealthModule {}
