import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { CallRegistry } from '../call/call-registry.service.js';

interface HealthReport {
  status: 'ok' | 'draining';
  activeCalls: number;
}

@Controller('health')
export class HealthController {
  constructor(private readonly registry: CallRegistry) {}

  /** Liveness: the process answers, with the number of calls it carries. */
  @Get()
  health(): HealthReport {
    return this.report();
  }

  /** Readiness: 503 once shutdown has begun, so the load balancer sends new calls elsewhere. */
  @Get('ready')
  ready(): HealthReport {
    const report = this.report();
    if (report.status !== 'ok') throw new ServiceUnavailableException(report);
    return report;
  }

  private report(): HealthReport {
    return {
      status: this.registry.isDraining ? 'draining' : 'ok',
      activeCalls: this.registry.activeCalls,
    };
  }
}
