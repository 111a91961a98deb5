import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';

/** The `metrics` surface: the Prometheus scrape at `/metrics` (BridgeMetrics is global). */
@Module({ controllers: [MetricsController] })
export class MetricsEndpointModule {}
