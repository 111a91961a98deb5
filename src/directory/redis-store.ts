import { Redis, type RedisOptions } from 'ioredis';
import type { DirectoryHealth } from './call-directory.js';
import type { BusRejection } from './bus-envelope.js';
import {
  REDIS_CLOSE_MS,
  REDIS_COMMAND_TIMEOUT_MS,
  REDIS_CONNECT_TIMEOUT_MS,
  REDIS_HUNG_AFTER_TIMEOUTS,
  REDIS_KEEPALIVE_MS,
  REDIS_RETRY_MAX_MS,
} from './cluster.constants.js';
import { redactRedisUrl } from './redis-url.js';

/** What the directory reports to metrics about the store. */
export interface StoreObserver {
  /** Redis reachable (true) or not (false), on every change. */
  storeState(up: boolean): void;
  /** A command failed (the call went on without it). */
  storeError(operation: string): void;
  /** A message or record read from Redis was dropped: unsigned, stale or malformed. */
  busRejected(reason: BusRejection): void;
}

export interface DirectoryLog {
  log(message: string): void;
  warn(message: string): void;
}

/** Redis could not be reached at start-up: the one line main.ts prints before exiting. */
export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

/**
 * Another process on this Redis already listens on this instance's control channel: two
 * instances were given one INSTANCE_ID, and both would answer (and act on) the same commands.
 */
export class InstanceIdTakenError extends RedisUnavailableError {}

/**
 * Start-up check of REDIS_URL (main.ts runs it before building the app, so an unreachable Redis
 * gives one line, not a Nest stack trace): connect once, PING, quit.
 */
export async function probeRedis(url: string): Promise<void> {
  let lastError: Error | undefined;
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  client.on('error', (error: Error) => (lastError = error));
  try {
    await withTimeout(
      client.connect().then(() => client.ping()),
      REDIS_CONNECT_TIMEOUT_MS,
    );
  } catch (error) {
    throw unavailable(url, lastError ?? error);
  } finally {
    client.disconnect();
  }
}

function unavailable(url: string, error: unknown): RedisUnavailableError {
  const redacted = redactRedisUrl(url);
  const reason = (error instanceof Error ? error.message : String(error)).replaceAll(url, redacted);
  return new RedisUnavailableError(`REDIS_URL: cannot reach Redis at ${redacted} (${reason})`);
}

/** ioredis's rejection of a command that got no answer within `commandTimeout`. */
const isCommandTimeout = (error: unknown) =>
  error instanceof Error && error.message === 'Command timed out';

/**
 * The two connections to Redis (commands, and the subscriber) and whether Redis is up. Every
 * command goes through `attempt`: while Redis is away it fails at once and the caller falls back.
 *
 * Away means closed, or hung: a Redis that keeps its connections open but stops answering
 * (frozen, swapping, a lost network path) counts as down after REDIS_HUNG_AFTER_TIMEOUTS commands
 * in a row timed out, so calls fall back at once instead of each waiting out the command
 * timeout, and health says so. A PING every REDIS_RETRY_MAX_MS then tells when it answers again.
 */
export class RedisStore {
  readonly client: Redis;
  readonly sub: Redis;
  private up = false;
  private downSince?: Date;
  private closing = false;
  private readonly closeHooks: Array<() => Promise<void>> = [];
  private timeoutsInRow = 0;
  private hungProbe?: NodeJS.Timeout;

  constructor(
    private readonly url: string,
    private readonly observer: StoreObserver,
    private readonly log: DirectoryLog,
    /** Redis came back after an outage (the directory writes its live calls again). */
    private readonly onBack: (outage: string) => void,
  ) {
    const common: RedisOptions = {
      lazyConnect: true,
      connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
      // TCP keepalive after this much silence (ioredis's default leaves it to the system: 2 h).
      // A subscriber can be quiet for long; a NAT or load balancer in between (idle timeouts of
      // 4-10 minutes) would otherwise drop its flow without a word, and it would hear nothing.
      keepAlive: REDIS_KEEPALIVE_MS,
      // Keep reconnecting, never faster than every REDIS_RETRY_MAX_MS, for as long as it takes.
      retryStrategy: (attempt) => Math.min(attempt * 200, REDIS_RETRY_MAX_MS),
    };
    this.client = new Redis(url, {
      ...common,
      // While Redis is away a command fails at once (the caller falls back) instead of queueing.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    });
    // The subscriber queues its (re)subscriptions until it is connected again.
    this.sub = new Redis(url, { ...common, maxRetriesPerRequest: null });
    // ioredis emits 'error' on every failed reconnect; the state change is what we log.
    this.client.on('error', () => undefined);
    this.sub.on('error', () => undefined);
    this.client.on('ready', () => this.setUp(true));
    this.client.on('close', () => this.setUp(false));
  }

  get isUp(): boolean {
    return this.up;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /**
   * Connects both connections and subscribes to `channel`, or throws RedisUnavailableError with
   * one clear line (the password in the URL never printed) within REDIS_CONNECT_TIMEOUT_MS.
   */
  async connect(channel: string): Promise<void> {
    let lastError: Error | undefined;
    const remember = (error: Error) => (lastError = error);
    this.client.on('error', remember);
    try {
      await withTimeout(
        Promise.all([this.client.connect(), this.sub.connect()]),
        REDIS_CONNECT_TIMEOUT_MS,
      );
      await this.assertChannelFree(channel);
      await withTimeout(this.sub.subscribe(channel), REDIS_CONNECT_TIMEOUT_MS);
    } catch (error) {
      this.drop();
      if (error instanceof InstanceIdTakenError) throw error;
      throw unavailable(this.url, lastError ?? error);
    } finally {
      this.client.off('error', remember);
    }
  }

  /**
   * Refuses to start beside a live process that listens on `channel` already. A process that
   * died without closing its connection (a lost host) holds it until Redis's TCP keepalive
   * notices; the orchestrator's restarts then get through once it has.
   */
  private async assertChannelFree(channel: string): Promise<void> {
    const reply = await withTimeout(
      this.client.pubsub('NUMSUB', channel),
      REDIS_CONNECT_TIMEOUT_MS,
    );
    const listeners = Number(reply[1] ?? 0);
    if (listeners === 0) return;
    throw new InstanceIdTakenError(
      `INSTANCE_ID: another instance on this Redis already runs under this one (it listens on ` +
        `${channel}); give every instance its own INSTANCE_ID, or leave it unset (host name and pid)`,
    );
  }

  /** Runs `hook` when close() is called, before the connections quit. */
  beforeClose(hook: () => Promise<void>): void {
    this.closeHooks.push(hook);
  }

  /**
   * Runs the close hooks and quits, within REDIS_CLOSE_MS: a Redis that does not answer (hung)
   * must not hold the shutdown up until its forced exit. The connections are dropped either way.
   */
  async close(): Promise<void> {
    const orderly = async () => {
      for (const hook of this.closeHooks.splice(0)) await hook();
      this.stopWatching();
      await Promise.allSettled([this.client.quit(), this.sub.quit()]);
    };
    await withTimeout(orderly(), REDIS_CLOSE_MS).catch(() =>
      this.log.warn(
        `Redis did not answer the close within ${REDIS_CLOSE_MS} ms: connections dropped`,
      ),
    );
    this.drop();
  }

  /** Both connections dropped at once (after a close's quit, or one that hung). */
  private drop(): void {
    this.stopWatching();
    this.client.disconnect();
    this.sub.disconnect();
  }

  /** From now on, a dropped connection is the close's, not an outage: no probe, no reconnect. */
  private stopWatching(): void {
    this.closing = true;
    clearInterval(this.hungProbe);
  }

  /** Runs a Redis command; on failure counts it and returns undefined (the caller falls back). */
  async attempt<T>(operation: string, run: () => Promise<T>): Promise<T | undefined> {
    if (!this.up) return undefined;
    try {
      const result = await run();
      this.timeoutsInRow = 0;
      return result;
    } catch (error) {
      this.observer.storeError(operation);
      if (isCommandTimeout(error) && ++this.timeoutsInRow >= REDIS_HUNG_AFTER_TIMEOUTS) {
        this.hung();
      }
      return undefined;
    }
  }

  /** Redis stopped answering on a connection that is still open: down until a PING answers. */
  private hung(): void {
    if (!this.up || this.closing) return;
    this.setUp(
      false,
      `Redis stopped answering (${redactRedisUrl(this.url)}: ${REDIS_HUNG_AFTER_TIMEOUTS} commands in a row got no answer within ${REDIS_COMMAND_TIMEOUT_MS} ms)`,
    );
    let probing = false;
    this.hungProbe = setInterval(() => {
      if (probing) return;
      probing = true;
      this.client
        .ping()
        .then(() => this.setUp(true))
        .catch(() => undefined)
        .finally(() => (probing = false));
    }, REDIS_RETRY_MAX_MS);
    this.hungProbe.unref();
  }

  health(instance: string): DirectoryHealth {
    return {
      mode: 'redis',
      instance,
      store: this.up ? 'up' : 'down',
      ...(this.downSince ? { downSince: this.downSince.toISOString() } : {}),
    };
  }

  private setUp(up: boolean, cause = `Redis connection lost (${redactRedisUrl(this.url)})`): void {
    if (this.closing || up === this.up) return;
    this.up = up;
    this.timeoutsInRow = 0;
    this.observer.storeState(up);
    if (up) {
      clearInterval(this.hungProbe);
      this.hungProbe = undefined;
      const outage = this.downSince
        ? ` after ${Math.round((Date.now() - this.downSince.getTime()) / 1000)} s`
        : '';
      this.downSince = undefined;
      this.onBack(outage);
    } else {
      this.downSince = new Date();
      this.log.warn(
        `${cause}: live calls go on; new calls are admitted under MAX_CONCURRENT_CALLS only until it is back`,
      );
    }
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
