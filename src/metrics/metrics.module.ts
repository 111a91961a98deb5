import { Global, Module } from '@nestjs/common';
import { BridgeMetrics } from './bridge-metrics.service.js';
import { HistoryMetrics } from './history-metrics.service.js';

/**
 * Global: calls report to the one BridgeMetrics from wherever they run. Its route is a surface
 * of its own (MetricsEndpointModule): the counters are kept whether or not it is served.
 */
@Global()
@Module({ providers: [BridgeMetrics, HistoryMetrics], exports: [BridgeMetrics, HistoryMetrics] })
export class MetricsModule {}
