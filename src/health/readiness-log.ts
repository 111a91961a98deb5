import { Logger } from '@nestjs/common';
import type { HealthIndicatorResult } from '@nestjs/terminus';

/**
 * Says when readiness changes, once: "not ready" with the checks that fail and why, then "ready"
 * again. A load balancer probes every few seconds, and terminus would log every failed probe at
 * error level (dozens of lines while the embedded history database opens); a probe that finds
 * the same reasons as the last one says nothing.
 */
export class ReadinessLog {
  private lastReasons?: string;

  constructor(private readonly log: Pick<Logger, 'log' | 'warn'> = new Logger('Readiness')) {}

  notReady(failing: Partial<HealthIndicatorResult>): void {
    const reasons = describe(failing);
    if (reasons === this.lastReasons) return;
    this.lastReasons = reasons;
    this.log.warn(`not ready: ${reasons}`);
  }

  ready(): void {
    if (this.lastReasons === undefined) return;
    this.lastReasons = undefined;
    this.log.log('ready');
  }
}

/** `history (opening the history database), openai (API key rejected (HTTP 401))`. */
function describe(failing: Partial<HealthIndicatorResult>): string {
  const reasons = Object.entries(failing).map(([check, state]) => {
    const message = typeof state?.message === 'string' ? ` (${state.message})` : '';
    return `${check}${message}`;
  });
  return reasons.length > 0 ? reasons.join(', ') : 'a check failed';
}
