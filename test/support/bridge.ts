import type { INestApplication } from '@nestjs/common';
import { createBridgeApp, type BridgeOptions } from '../../src/bridge.js';
import { loadBridgeConfig } from '../../src/config/load-config.js';
import { CapturedLogs } from '../../src/testing/captured-logs.js';
import { TEST_AUTH_TOKEN } from './fake-twilio.js';
import { offlineRestUrls } from './no-internet.js';
import { TEST_OPENAI_API_KEY as TEST_API_KEY } from './secrets.js';

// The bridge's OPENAI_API_KEY in tests, by the name the tests import it.
export { TEST_API_KEY };
export { CapturedLogs };

export interface RunningBridge {
  app: INestApplication;
  baseUrl: string;
  logs: CapturedLogs;
  close(): Promise<void>;
}

/**
 * Starts the real application on an ephemeral loopback port, as `main.ts` would. `env` is the
 * whole environment the bridge sees: process.env is neither read nor changed, so apps started
 * side by side each keep their own settings.
 */
export async function startBridge(
  env: Record<string, string | undefined>,
  imports: BridgeOptions['imports'] = [],
): Promise<RunningBridge> {
  const config = loadBridgeConfig({
    envFile: false,
    env: {
      OPENAI_API_KEY: TEST_API_KEY,
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      LOG_LEVEL: 'debug',
      // Tests close the app with calls still up; draining them for 30 s would only slow the suite.
      SHUTDOWN_DRAIN_S: '0',
      ...offlineRestUrls(env),
      // The history's embedded database costs a second and ~250 MB per start: the history's
      // own tests turn it on, with a temp DATA_DIR each.
      HISTORY: 'off',
      ...env,
    },
  });
  const logs = new CapturedLogs();
  const app = await createBridgeApp({ config, logger: logs, imports });
  await app.listen(0, '127.0.0.1');
  const baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, baseUrl, logs, close: () => app.close() };
}
