import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CallEventBus } from '../events/call-event-bus.js';
import { clusterConfig, type ClusterConfig } from '../config/config.namespaces.js';
import { BridgeMetrics } from '../metrics/bridge-metrics.service.js';
import { CallDirectory } from './call-directory.js';
import { MemoryCallDirectory } from './memory-call-directory.js';
import { RedisCallDirectory } from './redis-call-directory.js';
import { SessionStore } from './session-store.js';

/**
 * Chooses the shared-state implementation once, at start-up: Redis when REDIS_URL is set (and
 * then Redis must answer, or start-up fails with one line), this process's memory otherwise.
 */
async function createDirectory(
  cfg: ClusterConfig,
  events: CallEventBus,
  metrics: BridgeMetrics,
): Promise<CallDirectory> {
  if (!cfg.redisUrl) {
    return new MemoryCallDirectory({
      instanceId: cfg.instanceId,
      clusterMaxCalls: cfg.clusterMaxCalls,
      events,
    });
  }
  // The configuration refuses REDIS_URL without it; this only satisfies the types.
  if (!cfg.clusterSecret) throw new Error('CLUSTER_SECRET: is required with REDIS_URL');
  const log = new Logger('Cluster');
  return RedisCallDirectory.connect({
    url: cfg.redisUrl.reveal(),
    secret: cfg.clusterSecret,
    instanceId: cfg.instanceId,
    clusterMaxCalls: cfg.clusterMaxCalls,
    events,
    observer: {
      storeState: (up) => metrics.redisState(up),
      storeError: (operation) => metrics.redisError(operation),
      busRejected: (reason) => metrics.clusterBusRejected(reason),
    },
    log: { log: (message) => log.log(message), warn: (message) => log.warn(message) },
  });
}

/** Closes the Redis connections once the drain is over (Nest runs this after the drain hook). */
@Injectable()
export class ClusterLifecycle implements OnApplicationShutdown {
  constructor(@Inject(CallDirectory) private readonly directory: CallDirectory) {}

  async onApplicationShutdown(): Promise<void> {
    await this.directory.close();
  }
}

/**
 * Global: the gateway, the webhook, the API, SSE and health all read the one CallDirectory; the
 * console its SessionStore.
 */
@Global()
@Module({
  providers: [
    {
      provide: CallDirectory,
      inject: [clusterConfig.KEY, CallEventBus, BridgeMetrics],
      useFactory: createDirectory,
    },
    {
      provide: SessionStore,
      inject: [CallDirectory],
      useFactory: (directory: CallDirectory) => directory.sessionStore(),
    },
    ClusterLifecycle,
  ],
  exports: [CallDirectory, SessionStore],
})
export class ClusterModule {}
