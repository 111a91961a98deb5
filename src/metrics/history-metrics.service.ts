import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { BridgeMetrics } from './bridge-metrics.service.js';

/** The call history's metrics, in the bridge's registry (src/history/). */
@Injectable()
export class HistoryMetrics {
  private readonly dropped: Counter;
  private readonly writeErrors: Counter;
  private readonly pending: Gauge;
  private readonly lost: Counter;

  constructor(metrics: BridgeMetrics) {
    const registers = [metrics.registry];
    this.dropped = new Counter({
      name: 'bridge_history_dropped_total',
      help: 'Call records lost because the history write queue was full (the database was down)',
      registers,
    });
    this.writeErrors = new Counter({
      name: 'bridge_history_write_errors_total',
      help: 'History writes that failed and were queued for a retry',
      registers,
    });
    this.pending = new Gauge({
      name: 'bridge_history_pending_records',
      help: 'Call records waiting to be written to the history database',
      registers,
    });
    this.lost = new Counter({
      name: 'bridge_history_lost_calls_total',
      help: 'Calls this instance recorded as lost: their process stopped without ending them',
      registers,
    });
  }

  recordDropped(): void {
    this.dropped.inc();
  }

  writeFailed(): void {
    this.writeErrors.inc();
  }

  lostCallRecorded(): void {
    this.lost.inc();
  }

  pendingRecords(count: number): void {
    this.pending.set(count);
  }
}
