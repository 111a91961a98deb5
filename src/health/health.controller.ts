import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
} from '@nestjs/terminus';
import { CallRegistry } from '../call/call-registry.service.js';
import { CallDirectory } from '../directory/call-directory.js';
import { HistoryService } from '../history/history.service.js';
import { RealtimeHealth } from '../realtime/realtime-health.service.js';
import { ReadinessLog } from './readiness-log.js';

type HealthReport = HealthCheckResult & { activeCalls: number };

/**
 * Liveness (`/health`) and readiness (`/health/ready`) through @nestjs/terminus. Readiness is
 * 503 while draining for shutdown, while the embedded history database is opening, and after
 * OpenAI refused the API key until a connection succeeds again; it never probes OpenAI itself.
 */
@Controller('health')
export class HealthController {
  private readonly readinessLog = new ReadinessLog();

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly registry: CallRegistry,
    private readonly realtime: RealtimeHealth,
    private readonly directory: CallDirectory,
    private readonly history: HistoryService,
  ) {}

  /**
   * Liveness stays 200 through a drain (terminus would answer 503 once shutdown begins, and an
   * orchestrator would then kill the pod with its calls), so it is answered directly.
   */
  @Get()
  live(): HealthReport {
    const calls = this.calls();
    const redis = this.redis();
    const history = this.historyDatabase();
    // Redis or the history database down is reported (error, details) but stays 200: the
    // process and its calls are fine, and a restart would only drop them.
    const redisDown = redis?.redis.status === 'down';
    const down = { ...(redisDown ? redis : {}), ...history?.down };
    return this.withCalls({
      status: 'ok',
      info: { ...calls, ...(redisDown ? {} : redis), ...history?.up },
      error: down,
      details: { ...calls, ...redis, ...history?.up, ...history?.down },
    });
  }

  @Get('ready')
  @HealthCheck()
  async ready(): Promise<HealthReport> {
    try {
      const result = await this.checkReadiness();
      this.readinessLog.ready();
      return this.withCalls(result);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      this.readinessLog.notReady((error.getResponse() as HealthCheckResult).error ?? {});
      throw error;
    }
  }

  private checkReadiness(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.calls(),
      () =>
        this.registry.isDraining
          ? this.indicators.check('admission').down({ message: 'draining for shutdown' })
          : this.indicators.check('admission').up(),
      // Cluster mode: Redis down leaves this instance ready (it admits calls under its own
      // limit); unready pods everywhere would refuse every call instead.
      ...this.redisReadiness(),
      // The embedded history database opens after the app listens (seconds, the first time).
      () =>
        this.history.enabled && !this.history.ready
          ? this.indicators.check('history').down({ message: 'opening the history database' })
          : this.indicators.check('history').up({ enabled: this.history.enabled }),
      () => {
        const rejected = this.realtime.keyRejected;
        return rejected
          ? this.indicators.check('openai').down({
              message: `API key rejected (HTTP ${rejected.status})`,
              since: rejected.at.toISOString(),
            })
          : this.indicators.check('openai').up();
      },
    ]);
  }

  private calls() {
    return this.indicators.check('calls').up({
      active: this.registry.activeCalls,
      max: this.registry.maxConcurrentCalls,
      // Streams not yet a call: upgrades waiting for a valid start, and starting ones.
      pending: this.registry.pendingStreams,
    });
  }

  /**
   * History on: whether its database answers the writes (records, heartbeats, turns), and since
   * when it does not. Not the error itself: /health answers anyone, and it names hosts.
   */
  private historyDatabase() {
    if (!this.history.enabled) return undefined;
    const outage = this.history.databaseDown;
    return outage
      ? ({ down: { history: { status: 'down', since: outage.since } } } as const)
      : ({ up: { history: { status: 'up' } } } as const);
  }

  /** Cluster mode only: whether Redis answers, and this instance's name. */
  private redis() {
    const state = this.directory.health();
    if (state.mode !== 'redis') return undefined;
    return {
      redis: {
        status: state.store,
        instance: state.instance,
        ...(state.downSince ? { since: state.downSince } : {}),
      },
    } as const;
  }

  private redisReadiness() {
    const state = this.directory.health();
    if (state.mode !== 'redis') return [];
    return [
      () =>
        this.indicators.check('redis').up({
          connection: state.store,
          instance: state.instance,
          ...(state.downSince ? { since: state.downSince } : {}),
        }),
    ];
  }

  private withCalls(result: HealthCheckResult): HealthReport {
    return { ...result, activeCalls: this.registry.activeCalls };
  }
}
