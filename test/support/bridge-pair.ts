import type { BridgeOptions } from '../../src/bridge.js';
import { startBridge, type RunningBridge } from './bridge.js';
import { FakeRealtimeServer } from './fake-realtime-server.js';
import { TestRedis } from './redis-server.js';

export interface BridgePairOptions {
  /** INSTANCE_ID prefix: the instances are `<name>-a` and `<name>-b`. */
  name: string;
  apiToken: string;
  clusterSecret: string;
  /** More settings, for both instances. */
  env?: Record<string, string>;
  /** Modules A alone imports (B's events are then not in this process's logs of them). */
  importsOfA?: BridgeOptions['imports'];
}

/**
 * Two instances of the real application in this process, A and B, on one real Redis, both
 * talking to one fake OpenAI: the cluster the console, listen and session e2e tests run on.
 */
export class BridgePair {
  private constructor(
    readonly redis: TestRedis,
    readonly openai: FakeRealtimeServer,
    private readonly options: BridgePairOptions,
    public a: RunningBridge,
    public b: RunningBridge,
  ) {}

  static async start(options: BridgePairOptions): Promise<BridgePair> {
    const redis = await TestRedis.start();
    const openai = new FakeRealtimeServer();
    await openai.start();
    const env = (instance: 'a' | 'b') => envOf(options, redis, openai, instance);
    const a = await startBridge(env('a'), options.importsOfA);
    const b = await startBridge(env('b'));
    return new BridgePair(redis, openai, options, a, b);
  }

  /** Stops A and starts it again on the same settings (a new process of the same instance). */
  async restartA(): Promise<RunningBridge> {
    await this.a.close();
    this.a = await startBridge(
      envOf(this.options, this.redis, this.openai, 'a'),
      this.options.importsOfA,
    );
    return this.a;
  }

  async stop(): Promise<void> {
    await this.a.close();
    await this.b.close();
    await this.openai.stop();
    await this.redis.destroy();
  }
}

function envOf(
  options: BridgePairOptions,
  redis: TestRedis,
  openai: FakeRealtimeServer,
  instance: 'a' | 'b',
): Record<string, string> {
  return {
    API_TOKEN: options.apiToken,
    INSTANCE_ID: `${options.name}-${instance}`,
    REDIS_URL: redis.url,
    CLUSTER_SECRET: options.clusterSecret,
    OPENAI_REALTIME_URL: openai.url,
    ...options.env,
  };
}
