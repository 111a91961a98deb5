import { Controller, Get } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
} from '@nestjs/terminus';
import { CallRegistry } from '../call/call-registry.service.js';
import { RealtimeHealth } from '../realtime/realtime-health.service.js';

type HealthReport = HealthCheckResult & { activeCalls: number };

/**
 * Liveness (`/health`) and readiness (`/health/ready`) through @nestjs/terminus. Readiness is
 * 503 while draining for shutdown, and after OpenAI refused the API key until a connection
 * succeeds again; it never probes OpenAI itself.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly registry: CallRegistry,
    private readonly realtime: RealtimeHealth,
  ) {}

  /**
   * Liveness stays 200 through a drain (terminus would answer 503 once shutdown begins, and an
   * orchestrator would then kill the pod with its calls), so it is answered directly.
   */
  @Get()
  live(): HealthReport {
    const calls = this.calls();
    return this.withCalls({ status: 'ok', info: calls, error: {}, details: calls });
  }

  @Get('ready')
  @HealthCheck()
  async ready(): Promise<HealthReport> {
    return this.withCalls(
      await this.health.check([
        () => this.calls(),
        () =>
          this.registry.isDraining
            ? this.indicators.check('admission').down({ message: 'draining for shutdown' })
            : this.indicators.check('admission').up(),
        () => {
          const rejected = this.realtime.keyRejected;
          return rejected
            ? this.indicators.check('openai').down({
                message: `API key rejected (HTTP ${rejected.status})`,
                since: rejected.at.toISOString(),
              })
            : this.indicators.check('openai').up();
        },
      ]),
    );
  }

  private calls() {
    return this.indicators.check('calls').up({
      active: this.registry.activeCalls,
      max: this.registry.maxConcurrentCalls,
      // Streams not yet a call: unsigned ones waiting for a valid start, and starting ones.
      pending: this.registry.pendingStreams,
    });
  }

  private withCalls(result: HealthCheckResult): HealthReport {
    return { ...result, activeCalls: this.registry.activeCalls };
  }
}
