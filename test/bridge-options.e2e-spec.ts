import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  CALL_SETTINGS_RESOLVER,
  CALL_TOOL_RESOLVER,
  ConfigValidationError,
  TwilioBridgeModule,
  type BridgeSettings,
  type BridgeSurfaces,
  type CallDescription,
  type CallSettingsResolver,
  type CallToolResolver,
} from 'twilio-realtime-bridge';
import { TableBookingModule } from '../examples/table-booking.module.js';
import { CapturedLogs, TEST_API_KEY } from './support/bridge.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { FakeTwilioCall, postTwiml, testSid } from './support/fake-twilio.js';
import { randomApiToken, randomTwilioAuthToken } from './support/secrets.js';

// The grouped options of TwilioBridgeModule in an application of its own: where the settings
// come from, which surfaces are served, and the resolvers given by class or by token.

const TWILIO_TOKEN = randomTwilioAuthToken();
const API_TOKEN = randomApiToken();
const SIP_SECRET = 'whsec_' + Buffer.from('a sip webhook secret of this test').toString('base64');

@Controller('orders')
class OrdersController {
  @Get()
  list(): string[] {
    return ['order-1'];
  }
}

interface HostApp {
  app: INestApplication;
  baseUrl: string;
  logs: CapturedLogs;
}

const hostModule = (bridge: DynamicModule, providers: DynamicModule['providers'] = []) => {
  @Module({ imports: [bridge, TableBookingModule], controllers: [OrdersController], providers })
  class HostModule {}
  return HostModule;
};

const sessionOf = (upstream: FakeRealtimeConnection) =>
  upstream.received[0].session as {
    instructions: string;
    audio: { output: { voice: string } };
    tools: Array<{ name: string }>;
  };

describe('TwilioBridgeModule options', () => {
  const apps: INestApplication[] = [];
  let openai: FakeRealtimeServer;

  beforeEach(async () => {
    openai = new FakeRealtimeServer();
    await openai.start();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await openai.stop();
  });

  function settings(
    extra: Omit<BridgeSettings, 'twilio' | 'audio' | 'limits'> = {},
  ): BridgeSettings {
    return {
      ...extra,
      openai: { apiKey: TEST_API_KEY, realtimeUrl: openai.url, ...extra.openai },
      twilio: { authToken: TWILIO_TOKEN, apiBaseUrl: 'http://127.0.0.1:9' },
      audio: { inputFormat: 'g711_ulaw' },
      limits: { shutdownDrainS: 0 },
      // No embedded database written under the repository by these tests.
      history: { enabled: false },
    };
  }

  async function create(bridge: DynamicModule, providers: DynamicModule['providers'] = []) {
    const logs = new CapturedLogs();
    const app = await NestFactory.create(hostModule(bridge, providers), {
      logger: logs,
      forceCloseConnections: true,
      abortOnError: false,
    });
    apps.push(app);
    return { app, logs };
  }

  async function start(
    bridge: DynamicModule,
    providers: DynamicModule['providers'] = [],
  ): Promise<HostApp> {
    const { app, logs } = await create(bridge, providers);
    await app.listen(0, '127.0.0.1');
    return { app, logs, baseUrl: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
  }

  async function callInto(host: HostApp, from = '+15550001111') {
    const call = await FakeTwilioCall.dial(host.baseUrl, { authToken: TWILIO_TOKEN, from });
    const upstream = await openai.connection(openai.connections.length);
    await upstream.waitFor('session.update');
    return { call, upstream };
  }

  async function startFailure(bridge: DynamicModule, providers: DynamicModule['providers'] = []) {
    try {
      const { app } = await create(bridge, providers);
      await app.init();
    } catch (error) {
      return error as Error;
    }
    throw new Error('the application started');
  }

  describe('where the settings come from', () => {
    const saved = { ...process.env };
    afterEach(() => {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    });

    it('forRoot() with nothing reads the process environment, as the service does', async () => {
      Object.assign(process.env, {
        OPENAI_API_KEY: TEST_API_KEY,
        OPENAI_REALTIME_URL: openai.url,
        OPENAI_VOICE: 'sage',
        TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
        TWILIO_API_BASE_URL: 'http://127.0.0.1:9',
        AUDIO_INPUT_FORMAT: 'g711_ulaw',
        SHUTDOWN_DRAIN_S: '0',
        HISTORY: 'off',
      });
      const host = await start(TwilioBridgeModule.forRoot());

      const { upstream } = await callInto(host);

      expect(sessionOf(upstream).audio.output.voice).toBe('sage');
    });

    it('reads nothing from the environment when options are given', async () => {
      process.env.OPENAI_VOICE = 'sage';
      process.env.AI_INSTRUCTIONS = 'From the environment.';
      const host = await start(TwilioBridgeModule.forRoot(settings()));

      const { upstream } = await callInto(host);

      expect(sessionOf(upstream).audio.output.voice).toBe('alloy');
      expect(sessionOf(upstream).instructions).not.toBe('From the environment.');
    });

    it('reads the environment under the options when they ask for it with env: true', async () => {
      process.env.OPENAI_VOICE = 'sage';
      process.env.AI_INSTRUCTIONS = 'From the environment.';
      const host = await start(
        TwilioBridgeModule.forRoot({ ...settings({ openai: { voice: 'cedar' } }), env: true }),
      );

      const { upstream } = await callInto(host);

      expect(sessionOf(upstream)).toMatchObject({
        instructions: 'From the environment.',
        audio: { output: { voice: 'cedar' } },
      });
    });

    it('validates forRootAsync’s useClass factory like forRoot, problems named by path', async () => {
      @Injectable()
      class BadSettings {
        create(): BridgeSettings {
          return { openai: { apiKey: 'k', voice: 7 } } as unknown as BridgeSettings;
        }
      }
      const error = await startFailure(TwilioBridgeModule.forRootAsync({ useClass: BadSettings }));

      expect(error).toBeInstanceOf(ConfigValidationError);
      expect((error as ConfigValidationError).problems).toEqual([
        'openai.voice: expected a string, got a number',
        expect.stringMatching(/^twilio.authToken: is required/),
      ]);
    });
  });

  describe('surfaces', () => {
    const bearer = { authorization: `Bearer ${API_TOKEN}` };
    const json = { ...bearer, 'content-type': 'application/json' };
    const PROBES: Record<keyof BridgeSurfaces, Array<(url: string) => Promise<Response>>> = {
      console: [(url) => fetch(`${url}/console`), (url) => fetch(`${url}/console/api/me`)],
      callControl: [
        (url) => fetch(`${url}/api/calls`, { headers: bearer }),
        (url) => fetch(`${url}/api/calls`, { method: 'POST', headers: json, body: '{}' }),
      ],
      metrics: [(url) => fetch(`${url}/metrics`)],
      health: [(url) => fetch(`${url}/health`), (url) => fetch(`${url}/health/ready`)],
      sipWebhook: [
        (url) => fetch(`${url}/api/openai/webhook`, { method: 'POST', headers: json, body: '{}' }),
      ],
      statusCallback: [(url) => fetch(`${url}/api/stream-status`, { method: 'POST' })],
    };
    const SURFACES = Object.keys(PROBES) as Array<keyof BridgeSurfaces>;

    async function statuses(baseUrl: string, surface: keyof BridgeSurfaces): Promise<number[]> {
      const responses = await Promise.all(PROBES[surface].map((probe) => probe(baseUrl)));
      return responses.map((response) => response.status);
    }

    it.each(SURFACES)(
      'switched off, %s is not served (404) while every other surface and the calls are',
      async (surface) => {
        const host = await start(
          TwilioBridgeModule.forRoot({
            ...settings({ api: { token: API_TOKEN }, sip: { webhookSecret: SIP_SECRET } }),
            surfaces: { [surface]: false },
          }),
        );

        expect(new Set(await statuses(host.baseUrl, surface))).toEqual(new Set([404]));
        for (const other of SURFACES.filter((name) => name !== surface)) {
          expect({ other, statuses: await statuses(host.baseUrl, other) }).toEqual({
            other,
            statuses: expect.not.arrayContaining([404]) as unknown,
          });
        }
        const twiml = await postTwiml(
          host.baseUrl,
          { CallSid: testSid('CA'), From: '+15550001111' },
          { authToken: TWILIO_TOKEN },
        );
        expect(twiml.status).toBe(200);
        // Twilio is pointed at the status callback only where it is served.
        expect((await twiml.text()).includes('statusCallback=')).toBe(surface !== 'statusCallback');
        expect((await fetch(`${host.baseUrl}/orders`)).status).toBe(200);
      },
      30_000,
    );

    it('refuses an unknown surface at start-up, with the settings’ problems', async () => {
      const error = await startFailure(
        TwilioBridgeModule.forRoot({
          ...settings(),
          surfaces: { consol: false } as BridgeSurfaces,
        }),
      );
      expect((error as ConfigValidationError).problems).toEqual([
        expect.stringMatching(/^surfaces.consol: not a surface of the bridge/),
      ]);
    });
  });

  describe('resolvers in the options', () => {
    /** The team's own directory of callers, in a module of its own. */
    @Injectable()
    class CallerDirectory {
      voiceOf(from: string | undefined): string {
        return from === '+15550009999' ? 'marin' : 'cedar';
      }
    }
    @Module({ providers: [CallerDirectory], exports: [CallerDirectory] })
    class DirectoryModule {}

    @Injectable()
    class DirectoryVoices implements CallSettingsResolver {
      constructor(@Inject(CallerDirectory) private readonly directory: CallerDirectory) {}
      resolve(call: CallDescription) {
        return { voice: this.directory.voiceOf(call.from), tools: ['book_table', 'end_call'] };
      }
    }

    @Injectable()
    class GreetingSettings implements CallSettingsResolver {
      resolve() {
        return { instructions: 'Chosen by the resolver provided under a token.' };
      }
    }

    @Injectable()
    class BookingOnlySettings implements CallSettingsResolver {
      resolve() {
        return { tools: ['book_table'] };
      }
    }

    /** Offers book_table only, and asks for a tool nobody registered. */
    @Injectable()
    class BookingOnly implements CallToolResolver {
      static offered: Array<readonly string[]> = [];
      resolve(_call: CallDescription, offered: readonly string[]) {
        BookingOnly.offered.push(offered);
        return ['book_table', 'launch_rockets'];
      }
    }

    const SETTINGS_TOKEN = Symbol('TEAM_SETTINGS');

    beforeEach(() => {
      BookingOnly.offered = [];
    });

    it('takes a settings resolver by class, created with forRootAsync’s imports', async () => {
      const bridgeSettings = settings();
      const host = await start(
        TwilioBridgeModule.forRootAsync({
          imports: [DirectoryModule],
          useFactory: () => bridgeSettings,
          settingsResolver: DirectoryVoices,
        }),
      );

      const vip = await callInto(host, '+15550009999');
      const guest = await callInto(host, '+15550001111');

      expect(sessionOf(vip.upstream).audio.output.voice).toBe('marin');
      expect(sessionOf(guest.upstream).audio.output.voice).toBe('cedar');
      expect(sessionOf(vip.upstream).tools.map((tool) => tool.name)).toEqual([
        'book_table',
        'end_call',
      ]);
    });

    it('takes a settings resolver by token, provided by a module of the application', async () => {
      const host = await start(
        TwilioBridgeModule.forRoot({
          ...settings(),
          settingsResolver: { useExisting: SETTINGS_TOKEN },
        }),
        [{ provide: SETTINGS_TOKEN, useClass: GreetingSettings }],
      );

      const { upstream } = await callInto(host);

      expect(sessionOf(upstream).instructions).toBe(
        'Chosen by the resolver provided under a token.',
      );
    });

    it('takes a tool resolver by class: it chooses among the tools offered, and only those', async () => {
      const host = await start(
        TwilioBridgeModule.forRoot({ ...settings(), toolResolver: BookingOnly }),
      );

      const { upstream } = await callInto(host);

      expect(sessionOf(upstream).tools.map((tool) => tool.name)).toEqual(['book_table']);
      expect(BookingOnly.offered[0]).toEqual(expect.arrayContaining(['book_table', 'end_call']));
      expect(
        host.logs.matching(/tool resolver chose tools the call is not offered \(launch_rockets\)/),
      ).toHaveLength(1);
    });

    it('takes a tool resolver by token, after the settings resolver’s choice of tools', async () => {
      const TOOLS = 'TEAM_TOOLS';
      const offered: Array<readonly string[]> = [];
      const lastOnly: CallToolResolver = {
        resolve: (_call, tools) => {
          offered.push(tools);
          return tools.slice(-1);
        },
      };
      const host = await start(
        TwilioBridgeModule.forRootAsync({
          useFactory: () => settings(),
          settingsResolver: BookingOnlySettings,
          toolResolver: { useExisting: TOOLS },
        }),
        [{ provide: TOOLS, useValue: lastOnly }],
      );

      const { upstream } = await callInto(host);

      // Offered what the settings resolver chose, not every registered tool.
      expect(offered).toEqual([['book_table']]);
      expect(sessionOf(upstream).tools.map((tool) => tool.name)).toEqual(['book_table']);
    });

    it('refuses a resolver given both in the options and as CALL_SETTINGS_RESOLVER', async () => {
      const error = await startFailure(
        TwilioBridgeModule.forRoot({ ...settings(), settingsResolver: GreetingSettings }),
        [{ provide: CALL_SETTINGS_RESOLVER, useValue: { resolve: () => undefined } }],
      );
      expect(error.message).toMatch(
        /settingsResolver: given in the options and also provided as CALL_SETTINGS_RESOLVER; keep one of the two/,
      );
    });

    it('says so when nothing is provided under a resolver’s token', async () => {
      const error = await startFailure(
        TwilioBridgeModule.forRoot({ ...settings(), toolResolver: { useExisting: 'NOBODY' } }),
      );
      expect(error.message).toMatch(
        /toolResolver: nothing is provided as NOBODY; provide it in one of your modules/,
      );
    });

    it('still finds a tool resolver provided as CALL_TOOL_RESOLVER', async () => {
      const host = await start(TwilioBridgeModule.forRoot(settings()), [
        { provide: CALL_TOOL_RESOLVER, useValue: { resolve: () => ['end_call'] } },
      ]);

      const { upstream } = await callInto(host);

      expect(sessionOf(upstream).tools.map((tool) => tool.name)).toEqual(['end_call']);
    });
  });
});
