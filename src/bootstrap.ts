import type { INestApplication } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBridgeApp, type BridgeOptions } from './bridge.js';
import { probeRedis, RedisUnavailableError } from './directory/redis-call-directory.js';
import { ConfigValidationError } from './config/env.schema.js';
import { loadBridgeConfig } from './config/load-config.js';
import { CrashHandlers } from './crash-handlers.js';
import { HistoryDatabaseUnavailableError } from './history/database/history-database.js';
import { forcedExitMs } from './shutdown-bounds.js';
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export interface BootstrapOptions extends BridgeOptions {
  /** Port to listen on (default PORT; 0 picks a free one, and the log says which). */
  port?: number;
  /** Address to listen on (default: every interface). */
  host?: string;
}

let crashHandlers: CrashHandlers | undefined;

/** Once per process: one call's bug must never take down every other call (CrashHandlers). */
function installCrashHandlers(): CrashHandlers {
  if (!crashHandlers) {
    crashHandlers = new CrashHandlers();
    crashHandlers.install();
  }
  return crashHandlers;
}

/** A start-up failure as one line an operator can act on. */
function describeStartupError(error: unknown, port: number): string {
  if (
    error instanceof ConfigValidationError ||
    error instanceof RedisUnavailableError ||
    error instanceof HistoryDatabaseUnavailableError
  ) {
    return error.message;
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return `Cannot listen on port ${port}: it is already in use (another bridge?). Stop that process or set PORT to a free port.`;
  }
  if (code === 'EACCES') {
    return `Cannot listen on port ${port}: permission denied (ports below 1024 need privileges). Set PORT to 1024 or above.`;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `Failed to start: ${message}`;
}

/**
 * Runs the bridge as a service, exactly as `src/main.ts` does: configuration read once (the
 * environment over `./.env`), process-wide exception handlers (CrashHandlers: a call's unhandled
 * rejection ends that call; an uncaught exception drains and exits 1), graceful shutdown on
 * SIGTERM and SIGINT (active calls drain for SHUTDOWN_DRAIN_S, then the process exits 0, forced
 * at the latest SHUTDOWN_DRAIN_S + EXIT_GRACE_MS, which leaves room for the steps after the
 * drain: shutdown-bounds.ts), and a "listening" line with the real port. A start-up
 * failure (bad configuration, Redis or the history database unreachable, port in use) prints
 * one line to stderr and exits with status 1.
 *
 * ```ts
 * import { bootstrapBridge } from 'twilio-realtime-bridge';
 * await bootstrapBridge({ imports: [MyToolsModule] });
 * ```
 */
export async function bootstrapBridge(options: BootstrapOptions = {}): Promise<INestApplication> {
  const crashes = installCrashHandlers();
  let port = options.port ?? 0;
  try {
    const config = options.config ?? loadBridgeConfig();
    port = options.port ?? config.env.PORT;
    // Cluster mode needs Redis from the first call on: say so in one line rather than start blind.
    if (config.env.REDIS_URL) await probeRedis(config.env.REDIS_URL);
    const app = await createBridgeApp({ ...options, config });
    // useProcessExit: exit 0 after a clean drain instead of re-raising SIGTERM (status 143).
    app.enableShutdownHooks([...SIGNALS], { useProcessExit: true });
    const exitMs = forcedExitMs(config.env.SHUTDOWN_DRAIN_S);
    for (const signal of SIGNALS) {
      process.once(signal, () => setTimeout(() => process.exit(0), exitMs).unref());
    }
    crashes.drainOnCrash(app, exitMs);
    await (options.host === undefined ? app.listen(port) : app.listen(port, options.host));
    const server = app.getHttpServer() as Server;
    const address = server.address() as AddressInfo;
    const source = config.envFile
      ? `, configuration from the environment and ${config.envFile}`
      : '';
    new Logger('Bootstrap').log(
      `twilio-realtime-bridge listening on port ${address.port}${source}`,
    );
    return app;
  } catch (error) {
    // The operator's mistake, not a crash: say what is wrong, without a stack trace.
    console.error(describeStartupError(error, port));
    process.exit(1);
  }
}
