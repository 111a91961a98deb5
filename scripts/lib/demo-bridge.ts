import 'reflect-metadata';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { createBridgeApp } from '../../src/bridge.js';
import { loadBridgeConfig } from '../../src/config/load-config.js';
import { DemoToolsModule } from './demo-tools.module.js';
import { DemoModel } from './demo-model/demo-model.js';

/**
 * `npm run demo` / `simulate --demo`: the real bridge (with the store-hours example module, so a
 * tool runs) in this process, against the demo model on loopback. Nothing leaves the machine and
 * no account is needed; `.env` is not read, so a real key in it is never used by the demo.
 */
export interface DemoSetup {
  url: string;
  authToken: string;
  apiToken: string;
  modelUrl: string;
  close(): Promise<void>;
}

/** The bridge's warnings and errors, one line each; its info lines would drown the transcript. */
class DemoBridgeLogger implements LoggerService {
  constructor(private readonly write: (line: string) => void) {}
  log(): void {}
  debug(): void {}
  verbose(): void {}
  warn(message: unknown): void {
    this.write(`bridge warning: ${text(message)}`);
  }
  error(message: unknown): void {
    this.write(`bridge error: ${text(message)}`);
  }
  fatal(message: unknown): void {
    this.write(`bridge error: ${text(message)}`);
  }
}

function text(message: unknown): string {
  if (typeof message === 'object' && message !== null && 'msg' in message) {
    const { msg } = message;
    return typeof msg === 'string' ? msg : JSON.stringify(msg);
  }
  if (message instanceof Error) return message.message;
  return typeof message === 'string' ? message : JSON.stringify(message);
}

export async function startDemo(write: (line: string) => void): Promise<DemoSetup> {
  // A local run: the bridge's ws:// Stream URL on loopback is expected, not a misconfiguration.
  process.env.NODE_ENV ??= 'development';
  const model = new DemoModel({ log: write });
  await model.start();
  // Made up per run, in the shapes the bridge requires (src/config/secret-rules.ts): a Twilio
  // Auth Token is 32 hex characters, an API token at least 24 characters.
  const authToken = randomBytes(16).toString('hex');
  const apiToken = randomBytes(16).toString('hex');
  let app: INestApplication | undefined;
  try {
    const config = loadBridgeConfig({
      envFile: false,
      env: {
        OPENAI_API_KEY: 'demo-model-needs-no-key',
        OPENAI_REALTIME_URL: model.url,
        TWILIO_AUTH_TOKEN: authToken,
        API_TOKEN: apiToken,
        TURN_DETECTION: 'server_vad',
        LOG_LEVEL: 'warn',
        SHUTDOWN_DRAIN_S: '0',
        // Twilio's REST API (hang-up, fallback) is never reached from the demo: a closed port.
        TWILIO_API_BASE_URL: 'http://127.0.0.1:9',
        // A demo writes no database into the folder it is run from.
        HISTORY: 'off',
      },
    });
    app = await createBridgeApp({
      config,
      imports: [DemoToolsModule],
      logger: new DemoBridgeLogger(write),
    });
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await app?.close();
    await model.stop();
    throw error;
  }
  const running = app;
  const url = (await running.getUrl()).replace('[::1]', '127.0.0.1');
  write(
    `demo: the bridge on ${url}, talking to the demo model at ${model.url} (no account, no network)`,
  );
  return {
    url,
    authToken,
    apiToken,
    modelUrl: model.url,
    close: async () => {
      await running.close();
      await model.stop();
    },
  };
}
