import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createBridgeApp } from './bridge.js';
import { probeRedis, RedisUnavailableError } from './cluster/redis-call-directory.js';
import { ConfigValidationError, parseEnv } from './config/env.schema.js';

/** After the drain, sockets may linger on peers that never answer; exit anyway by then. */
const EXIT_GRACE_S = 4;

async function bootstrap(): Promise<void> {
  const env = parseEnv(process.env);
  // Cluster mode needs Redis from the first call on: say so in one line rather than start blind.
  if (env.REDIS_URL) await probeRedis(env.REDIS_URL);
  const app = await createBridgeApp();
  // useProcessExit: exit 0 after a clean drain instead of re-raising SIGTERM (status 143).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => process.exit(0), (env.SHUTDOWN_DRAIN_S + EXIT_GRACE_S) * 1000).unref();
    });
  }
  await app.listen(env.PORT);
  new Logger('Bootstrap').log(`twilio-realtime-bridge listening on port ${env.PORT}`);
}

// One call's bug must never take down every other call: log it and carry on.
const crashLog = new Logger('Process');
process.on('unhandledRejection', (reason: unknown) => {
  crashLog.error(
    `unhandled promise rejection: ${reason instanceof Error ? reason.stack : String(reason)}`,
  );
});
process.on('uncaughtException', (error: Error) => {
  crashLog.error(`uncaught exception: ${error.stack ?? error.message}`);
});

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigValidationError || error instanceof RedisUnavailableError) {
    // The operator's mistake, not a crash: say what is wrong, without a stack trace.
    console.error(error.message);
  } else {
    console.error('Failed to start:', error);
  }
  process.exit(1);
});
