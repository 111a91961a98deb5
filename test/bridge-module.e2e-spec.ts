import { Controller, Get, Module, type INestApplication, type Type } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import {
  ConfigValidationError,
  TwilioBridgeModule,
  useTwilioBridge,
  type BridgeSettings,
} from 'twilio-realtime-bridge';
import { TableBookingModule } from '../examples/table-booking.module.js';
import { CapturedLogs, TEST_API_KEY } from './support/bridge.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { FakeTwilioCall, postTwiml, TEST_ACCOUNT_SID } from './support/fake-twilio.js';
import { modelCallsTool, outputsOf } from './support/tool-calls.js';
import { waitUntil } from './support/wait.js';
import { randomTwilioAuthToken } from './support/secrets.js';

// What a team with an application of its own writes: its module imports the bridge, configured
// from its own ConfigService, next to its other modules; its main.ts calls nothing of the bridge.

@Controller('orders')
class OrdersController {
  @Get()
  list(): string[] {
    return ['order-1'];
  }
}

/** A team's application module; its settings come from its own configuration, not process.env. */
function teamAppModule(bridgeSettings: BridgeSettings): Type {
  @Module({
    imports: [
      ConfigModule.forRoot({
        isGlobal: true,
        ignoreEnvFile: true,
        load: [() => ({ bridge: bridgeSettings })],
      }),
      TwilioBridgeModule.forRootAsync({
        inject: [ConfigService],
        // Settings alone (no `env`): nothing from the process environment, only these and the
        // defaults; history off (its embedded database costs a second and ~250 MB per start).
        useFactory: (config: ConfigService) => ({
          ...config.getOrThrow<BridgeSettings>('bridge'),
          history: { enabled: false },
        }),
      }),
      TableBookingModule,
    ],
    controllers: [OrdersController],
  })
  class TeamAppModule {}
  return TeamAppModule;
}

interface TeamApp {
  app: INestApplication;
  baseUrl: string;
  logs: CapturedLogs;
}

async function startTeamApp(settings: BridgeSettings): Promise<TeamApp> {
  const logs = new CapturedLogs();
  const app = await NestFactory.create(teamAppModule(settings), {
    logger: logs,
    forceCloseConnections: true,
    abortOnError: false,
  });
  await app.listen(0, '127.0.0.1');
  return { app, logs, baseUrl: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

/** Each application's own Twilio account token (well formed, as the bridge requires). */
const TEAM_TOKEN = randomTwilioAuthToken();
const TOKEN_OF_A = randomTwilioAuthToken();
const TOKEN_OF_B = randomTwilioAuthToken();

function settingsFor(
  openai: FakeRealtimeServer,
  authToken: string,
  extra: Pick<BridgeSettings, 'openai' | 'tools'> = {},
): BridgeSettings {
  return {
    openai: { apiKey: TEST_API_KEY, realtimeUrl: openai.url, ...extra.openai },
    twilio: { authToken, apiBaseUrl: 'http://127.0.0.1:9' },
    audio: { inputFormat: 'g711_ulaw' },
    limits: { shutdownDrainS: 0 },
    tools: extra.tools,
  };
}

async function callInto(team: TeamApp, openai: FakeRealtimeServer, authToken: string) {
  const call = await FakeTwilioCall.dial(team.baseUrl, { authToken });
  const upstream = await openai.connection(openai.connections.length);
  await upstream.waitFor('session.update');
  return { call, upstream };
}

const sessionOf = (upstream: FakeRealtimeConnection) =>
  upstream.received[0].session as {
    instructions: string;
    audio: { output: { voice: string } };
    tools: Array<{ name: string }>;
  };

describe('TwilioBridgeModule imported into a team application', () => {
  const started: INestApplication[] = [];
  const models: FakeRealtimeServer[] = [];

  async function fakeModel(): Promise<FakeRealtimeServer> {
    const model = new FakeRealtimeServer();
    await model.start();
    models.push(model);
    return model;
  }

  async function start(settings: BridgeSettings): Promise<TeamApp> {
    const team = await startTeamApp(settings);
    started.push(team.app);
    return team;
  }

  afterEach(async () => {
    await Promise.all(started.splice(0).map((app) => app.close()));
    await Promise.all(models.splice(0).map((model) => model.stop()));
  });

  it('runs a call end to end with a zod-typed tool on a per-call provider, beside the app’s own routes', async () => {
    const openai = await fakeModel();
    const team = await start(settingsFor(openai, TEAM_TOKEN));

    const { call, upstream } = await callInto(team, openai, TEAM_TOKEN);
    expect(sessionOf(upstream).tools.map((tool) => tool.name)).toContain('book_table');
    modelCallsTool(upstream, 'r1', 'c1', 'book_table', { date: '2026-12-05', guests: 2 }).done();
    await waitUntil(() => outputsOf(upstream).length === 1, 'the tool output');

    const output = outputsOf(upstream)[0].item as { call_id: string; output: string };
    expect(output.call_id).toBe('c1');
    expect(JSON.parse(output.output)).toEqual({
      ok: true,
      reference: `${call.callSid.slice(-4)}-1`,
      under: '+15550001111',
    });
    await upstream.waitFor('response.create');
    // The team's own controller is served by the same application.
    const orders = await fetch(`${team.baseUrl}/orders`);
    expect(await orders.json()).toEqual(['order-1']);
  }, 30_000);

  it('runs two differently configured applications in one process, each call with its own settings', async () => {
    const envBefore = { ...process.env };
    const [openaiA, openaiB] = await Promise.all([fakeModel(), fakeModel()]);
    const [a, b] = await Promise.all([
      start(
        settingsFor(openaiA, TOKEN_OF_A, {
          openai: { instructions: 'You take orders for bakery A.', voice: 'marin' },
        }),
      ),
      start(
        settingsFor(openaiB, TOKEN_OF_B, {
          openai: { instructions: 'You book tables at restaurant B.', voice: 'cedar' },
          tools: { endCall: false },
        }),
      ),
    ]);

    const [callA, callB] = await Promise.all([
      callInto(a, openaiA, TOKEN_OF_A),
      callInto(b, openaiB, TOKEN_OF_B),
    ]);

    expect(sessionOf(callA.upstream)).toMatchObject({
      instructions: 'You take orders for bakery A.',
      audio: { output: { voice: 'marin' } },
    });
    expect(sessionOf(callB.upstream)).toMatchObject({
      instructions: 'You book tables at restaurant B.',
      audio: { output: { voice: 'cedar' } },
    });
    expect(sessionOf(callA.upstream).tools.map((t) => t.name)).toContain('end_call');
    expect(sessionOf(callB.upstream).tools.map((t) => t.name)).not.toContain('end_call');
    // Each application checks signatures with its own account's token, and only that one.
    const call = {
      CallSid: 'CA' + 'f'.repeat(32),
      From: '+15550001111',
      AccountSid: TEST_ACCOUNT_SID,
    };
    expect((await postTwiml(b.baseUrl, call, { authToken: TOKEN_OF_A })).status).toBe(403);
    expect((await postTwiml(a.baseUrl, call, { authToken: TOKEN_OF_B })).status).toBe(403);
    expect((await postTwiml(a.baseUrl, call, { authToken: TOKEN_OF_A })).status).toBe(200);
    expect(process.env).toEqual(envBefore);
  }, 30_000);

  it('refuses to start with invalid options, listing every problem', async () => {
    const creating = NestFactory.create(
      teamAppModule({
        openai: { voce: 'marin', turnDetection: 'vad' },
        limits: { maxConcurrentCalls: 0 },
        tools: { endCall: 'maybe' },
      } as unknown as BridgeSettings),
      { logger: new CapturedLogs(), abortOnError: false },
    );

    const error = (await creating.then(
      () => undefined,
      (e: unknown) => e,
    )) as ConfigValidationError;
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect(error.problems).toEqual([
      'openai.voce: not an option of the bridge (docs/configuration.md lists them)',
      'tools.endCall: expected true or false, got a string',
      expect.stringMatching(/^openai.apiKey: is required/),
      expect.stringMatching(
        /^openai.turnDetection: expected one of semantic_vad, server_vad, got "vad"/,
      ),
      expect.stringMatching(/^limits.maxConcurrentCalls: expected a whole number from 1 /),
      expect.stringMatching(/^twilio.authToken: is required/),
    ]);
  });

  it('still accepts the deprecated useTwilioBridge(app), which changes nothing', async () => {
    const openai = await fakeModel();
    const app = await NestFactory.create(teamAppModule(settingsFor(openai, TEAM_TOKEN)), {
      logger: new CapturedLogs(),
      abortOnError: false,
    });
    started.push(app);
    expect(useTwilioBridge(app)).toBe(app);
    await app.listen(0, '127.0.0.1');
    const baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const { call } = await callInto({ app, baseUrl, logs: new CapturedLogs() }, openai, TEAM_TOKEN);
    expect(call.parameters.token).toBeDefined();
  });
});
