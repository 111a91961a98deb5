import { Global, Module } from '@nestjs/common';
import { BridgeMetrics } from './bridge-metrics.service.js';
import { HistoryMetrics } from './history-metrics.service.js';
import { MetricsController } from './metrics.controller.js';

/** Global: calls report to the one BridgeMetrics from wherever they run. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [BridgeMetrics, HistoryMetrics],
  exports: [BridgeMetrics, HistoryMetrics],
})
export class MetricsModule {}
