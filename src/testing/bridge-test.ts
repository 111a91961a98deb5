import {
  Injectable,
  Module,
  type DynamicModule,
  type INestApplication,
  type LoggerService,
  type OnModuleDestroy,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { BridgeSettings } from '../config/bridge-settings.js';
import {
  BRIDGE_CONFIG,
  BRIDGE_OPTIONS,
  BridgeConfigModule,
  PreloadedConfig,
} from '../config/config.module.js';
import { loadBridgeConfig, type BridgeConfig } from '../config/load-config.js';
import { settingsToEnv } from '../config/settings-to-env.js';
import { CallEventBus } from '../events/call-event-bus.js';
import type { AnyCallEvent } from '../events/call-events.js';
import { TwilioBridgeModule } from '../twilio-bridge.module.js';
import { BridgeMount } from '../http/bridge-mount.service.js';
import { TWIML_PATH } from '../twilio/public-url.js';
import { CapturedLogs } from './captured-logs.js';
import { FakeRealtimeServer } from './fake-realtime-server.js';
import { FakeTwilioRest } from './fake-twilio-rest.js';
import { STEP_TIMEOUT_MS, TestCall } from './test-call.js';
import { TEST_OPENAI_API_KEY, TEST_TWILIO_AUTH_TOKEN } from './test-secrets.js';
import { FakeTwilioCall, TEST_ACCOUNT_SID } from './twilio-caller.js';
import { waitUntil } from './wait.js';

type ModuleImport = Type<unknown> | DynamicModule;

export interface BridgeTestOptions {
  /**
   * Your application's root module, which imports `TwilioBridgeModule` itself. Default: the
   * bridge alone (`TwilioBridgeModule.forRoot()` over an empty environment).
   */
  module?: ModuleImport;
  /** Modules under test, imported next to `module`: tools, `@OnEvent` handlers, resolvers. */
  imports?: ModuleImport[];
  /** Bridge settings for this test, over your module's (`{ transfer: { number: '+1555...' } }`). */
  settings?: BridgeSettings;
  /** Where the logs go; default `logs` (kept in memory, printed with BRIDGE_TEST_LOGS=1). */
  logger?: LoggerService;
  /**
   * The voice webhook's path; default: /api/twiml where the app mounts the bridge (a
   * RouterModule path in your module counts; a global prefix is set by your main.ts, not here).
   */
  webhookPath?: string;
}

/**
 * Every call event of the app under test, in the order the bridge emits them. Heard on the
 * bridge's own bus, not through `@OnEvent`: the app's EventEmitter2 (when it has one) is the
 * app's to configure, and one without `wildcard` never matches `call.*`.
 */
@Injectable()
class CallEventRecorder implements OnModuleInit, OnModuleDestroy {
  readonly events: AnyCallEvent[] = [];
  private unfollow?: () => void;

  constructor(private readonly bus: CallEventBus) {}

  onModuleInit(): void {
    this.unfollow = this.bus.follow(CallEventRecorder.name, (event) => this.events.push(event));
  }

  onModuleDestroy(): void {
    this.unfollow?.();
    this.unfollow = undefined;
  }
}

@Module({ providers: [CallEventRecorder] })
class CallEventRecorderModule {}

/**
 * A running app under test: the app on a free loopback port, the fake Realtime model in place
 * of OpenAI, a fake Twilio REST API (for transfers and hang-ups), and the calls placed on it.
 * Start one with `startBridgeTest`; `close()` it after the test.
 */
export class BridgeTest {
  constructor(
    readonly app: INestApplication,
    /** `http://127.0.0.1:<port>`: the app's own routes answer here too. */
    readonly baseUrl: string,
    /** The fake model: each call's session is one of its `connections`. */
    readonly model: FakeRealtimeServer,
    /** The fake api.twilio.com: every REST request the bridge made (`requests`). */
    readonly twilioRest: FakeTwilioRest,
    /** What the app logged, when no `logger` was given. */
    readonly logs: CapturedLogs | undefined,
    private readonly webhookPath: string,
  ) {}

  /**
   * A call comes in, as Twilio places it: the signed voice webhook, then the signed media stream
   * with the token the TwiML gave, `connected`/`start`. Resolves once the bridge has set up the
   * model's session; rejects at once, with the close frame's reason, if the bridge refuses or
   * closes the stream instead (another account's `start`, a failed model session). Place calls
   * one at a time (await each): a call is matched to the model session that opens after it.
   * `from` and `to` are the numbers Twilio's webhook gives (defaults +15550001111 and
   * +15550002222: name them when a resolver decides by them).
   */
  async placeCall(
    options: { from?: string; to?: string; callSid?: string } = {},
  ): Promise<TestCall> {
    const sessions = this.model.connections.length;
    const twilio = await FakeTwilioCall.dial(this.baseUrl, {
      ...options,
      path: this.webhookPath,
      playInRealTime: true,
    });
    const bridgeClosed = () => {
      const reason = twilio.closedByBridge();
      return reason && this.logs ? `${reason}; BRIDGE_TEST_LOGS=1 prints its logs` : reason;
    };
    await waitUntil(
      () => (this.model.connections[sessions]?.eventsOfType('session.update').length ?? 0) > 0,
      `the bridge to set up the model's session (OpenAI connection #${sessions + 1})`,
      STEP_TIMEOUT_MS,
      bridgeClosed,
    );
    const model = this.model.connections[sessions];
    return new TestCall(twilio, model, () => this.events(), this.twilioRest);
  }

  /** Every call.* event the app emitted, in order. */
  events(): AnyCallEvent[] {
    return [...this.app.get(CallEventRecorder).events];
  }

  /** Closes the app and the fakes. */
  async close(): Promise<void> {
    await this.app.close();
    await Promise.all([this.model.stop(), this.twilioRest.stop()]);
  }
}

/** Nothing listens on the discard port: a request there fails at once, on this machine. */
const CLOSED_LOOPBACK_URL = 'http://127.0.0.1:9/v1';

/**
 * Starts your app (or modules under test next to the bridge) for a test, with no network beyond
 * loopback and no OpenAI or Twilio account.
 *
 * ```ts
 * const bridge = await startBridgeTest({ imports: [StoreHoursModule] });
 * const call = await bridge.placeCall();
 * await call.callerSays('When do you open on Saturday?');
 * const { output } = await call.modelCallsTool('get_store_hours', { day: 'saturday' });
 * ```
 */
export async function startBridgeTest(options: BridgeTestOptions = {}): Promise<BridgeTest> {
  const model = new FakeRealtimeServer();
  const twilioRest = new FakeTwilioRest();
  await Promise.all([model.start(), twilioRest.start()]);
  const logs = options.logger ? undefined : new CapturedLogs();
  const settings = mergeSettings(
    {
      openai: {
        apiKey: TEST_OPENAI_API_KEY,
        realtimeUrl: model.url,
        // OpenAI's REST API (the console's key check, SIP calls) has no fake here: a closed
        // loopback port, never api.openai.com. In Azure mode the endpoint gives it.
        ...(options.settings?.openai?.azure?.endpoint ? {} : { apiBaseUrl: CLOSED_LOOPBACK_URL }),
      },
      // The kit's Twilio account, as its token: the app's own SID (a real one, or one its
      // secrets store has only in production) would refuse the kit's calls as another account's.
      twilio: {
        authToken: TEST_TWILIO_AUTH_TOKEN,
        accountSid: TEST_ACCOUNT_SID,
        apiBaseUrl: twilioRest.url,
      },
      // A test closes the app with calls up: no 30 s drain.
      limits: { shutdownDrainS: 0 },
      // No database written under the project's ./data by a test (a test may turn it on).
      history: { enabled: false },
    },
    options.settings ?? {},
  );
  try {
    const root = options.module ?? TwilioBridgeModule.forRoot({});
    const app = await createTestApp(
      [root, ...(options.imports ?? []), CallEventRecorderModule],
      settings,
      options.logger ?? logs!,
    );
    const baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    return new BridgeTest(
      app,
      baseUrl,
      model,
      twilioRest,
      logs,
      options.webhookPath ?? app.get(BridgeMount, { strict: false }).path + TWIML_PATH,
    );
  } catch (error) {
    await Promise.all([model.stop(), twilioRest.stop()]);
    throw error;
  }
}

/**
 * The one place the kit makes the app, as a host does: its modules, the bridge's settings
 * overridden with the fakes', listening on a free loopback port.
 */
async function createTestApp(
  imports: ModuleImport[],
  settings: BridgeSettings,
  logger: LoggerService,
): Promise<INestApplication> {
  const testing = await Test.createTestingModule({ imports })
    .overrideProvider(BRIDGE_CONFIG)
    .useFactory({
      factory: (options?: BridgeSettings | PreloadedConfig) => withSettings(options, settings),
      inject: [BRIDGE_OPTIONS],
    })
    .setLogger(logger)
    .compile()
    .catch((error: unknown) => {
      throw withResolverAdvice(error);
    });
  const app = testing.createNestApplication({ logger, forceCloseConnections: true });
  await app.listen(0, '127.0.0.1');
  return app;
}

/**
 * Nest's error names the bridge's module, not the cause, when a resolver class given to
 * `forRoot` needs a provider of the app: the bridge creates such a class in its own module.
 */
function withResolverAdvice(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const unresolved = new RegExp(
    `can't resolve dependencies of the (\\w+) [\\s\\S]*? in the ${BridgeConfigModule.name} (?:context|module)`,
  ).exec(error.message)?.[1];
  if (!unresolved) return error;
  error.message +=
    `\n\nIf ${unresolved} is a settingsResolver or toolResolver given as a class, the bridge ` +
    `creates it in its own module, which cannot see your modules' providers: provide it in your ` +
    `module and pass { useExisting: ${unresolved} } (docs/extending.md, "Options").`;
  return error;
}

/** The app's own bridge options, with `settings` over them, validated as the bridge does. */
function withSettings(
  options: BridgeSettings | PreloadedConfig | undefined,
  settings: BridgeSettings,
): BridgeConfig {
  if (!(options instanceof PreloadedConfig)) {
    return onLoopback(loadBridgeConfig(mergeSettings(options ?? {}, settings)), settings);
  }
  // A configuration loaded beforehand: the test's settings, parsed alone, replace its values.
  const parsed = loadBridgeConfig(settings).env;
  const picked = Object.fromEntries(
    Object.keys(settingsToEnv(settings as Record<string, unknown>).env).map((key) => [
      key,
      parsed[key as keyof typeof parsed],
    ]),
  );
  return onLoopback({ ...options.config, env: { ...options.config.env, ...picked } }, settings);
}

/**
 * The app's public URL names its production host, where the kit's Twilio cannot go: signatures
 * and the stream URL follow the loopback request's Host instead, unless the test names one.
 */
function onLoopback(config: BridgeConfig, settings: BridgeSettings): BridgeConfig {
  if (settings.publicUrl !== undefined) return config;
  return { ...config, env: { ...config.env, PUBLIC_URL: undefined } };
}

/** `over` on `base`, group by group (`{ openai: { model } }` keeps the base's `openai.apiKey`). */
function mergeSettings(base: BridgeSettings, over: BridgeSettings): BridgeSettings {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const below = merged[key];
    merged[key] = isGroup(value) && isGroup(below) ? { ...below, ...value } : value;
  }
  return merged;
}

function isGroup(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
