import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { limitsConfig } from '../config/config.namespaces.js';
import type { LimitsConfig } from '../config/config.namespaces.js';
import { CallRegistry } from './call-registry.service.js';

const POLL_MS = 200;

/**
 * Graceful shutdown. Lives in `beforeApplicationShutdown`, which Nest runs after
 * `onModuleDestroy` but before it disposes the WebSocket adapter (which terminates every
 * client): at once no new call is admitted and readiness turns 503, while active calls go on
 * until they end or SHUTDOWN_DRAIN_S runs out; then the rest are closed, and the drain waits for
 * what their close set going (a SIP call's hang-up) before the process exits.
 */
@Injectable()
export class CallDrainService implements BeforeApplicationShutdown {
  private readonly log = new Logger('Shutdown');

  constructor(
    private readonly registry: CallRegistry,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {}

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.registry.stopAdmitting();
    const deadline = Date.now() + this.limits.shutdownDrainS * 1000;
    if (this.registry.activeCalls > 0) {
      this.log.log(
        `${signal ?? 'shutdown'}: draining ${this.registry.activeCalls} active calls for up to ${this.limits.shutdownDrainS} s`,
      );
    }
    while (this.registry.activeCalls > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const remaining = this.registry.all();
    if (remaining.length > 0) this.log.warn(`drain time over: ending ${remaining.length} calls`);
    for (const session of remaining) session.close('service shutting down', 'log', 'shutdown');
    // A SIP call's close sends its hang-up to OpenAI; exiting before it is answered would leave
    // the caller talking to an assistant no one runs. Each is bounded by its own deadline.
    await Promise.all(remaining.map((session) => session.settled?.() ?? Promise.resolve()));
  }
}
