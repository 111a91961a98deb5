import { Inject, Injectable, Logger } from '@nestjs/common';
import { callControlConfig, serverConfig, twilioConfig } from '../config/config.namespaces.js';
import type { CallControlConfig, ServerConfig, TwilioConfig } from '../config/config.namespaces.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import { TwilioRestService, type PhoneNumberInfo } from '../twilio-rest/twilio-rest.service.js';
import { StreamUrlService } from '../twilio/stream-url.service.js';
import { CHECK_TIMEOUT_MS, MAX_LISTED_NUMBERS } from './console.constants.js';
import { ProviderCheck } from './provider-check.service.js';

export type CheckName = 'config' | 'public-url' | 'openai' | 'twilio';

export interface SetupCheck {
  name: CheckName;
  title: string;
  state: 'ok' | 'fail';
  /** What was found. */
  detail: string;
  /** What to do about a failure. */
  fix?: string;
}

export interface ConsoleNumber extends PhoneNumberInfo {
  /** True when its voice webhook is this bridge's /api/twiml. */
  pointsHere: boolean;
}

export interface SetupReport {
  checks: SetupCheck[];
  /** The account's numbers (when Twilio answered). */
  numbers: ConsoleNumber[];
  /** Where a number's voice webhook should point: this bridge's /api/twiml. */
  webhookUrl: string;
  /** False when PUBLIC_URL is unset: the bridge does not know an address Twilio can reach. */
  canSetWebhook: boolean;
}

/**
 * The console's setup checklist. Each item is green or red with what was found and the fix. Two
 * of them ask the outside world one cheap question each, with a timeout: the model's provider
 * (ProviderCheck: OpenAI or Azure OpenAI list their models) and Twilio (list the account's numbers). Concurrent requests share
 * one run, so a page reloaded in a loop cannot multiply those requests.
 */
@Injectable()
export class SetupChecks {
  private readonly log = new Logger('ConsoleSetup');
  private running?: Promise<SetupReport>;

  constructor(
    @Inject(serverConfig.KEY) private readonly server: ServerConfig,
    @Inject(twilioConfig.KEY) private readonly twilio: TwilioConfig,
    @Inject(callControlConfig.KEY) private readonly callControl: CallControlConfig,
    private readonly tools: ToolRegistry,
    private readonly twilioRest: TwilioRestService,
    private readonly provider: ProviderCheck,
    private readonly streamUrls: StreamUrlService,
  ) {}

  /** `baseUrl`: this bridge's public base URL (PUBLIC_URL, or derived from the request). */
  run(baseUrl: string): Promise<SetupReport> {
    this.running ??= this.runChecks(baseUrl).finally(() => (this.running = undefined));
    return this.running;
  }

  /** Points one of the account's numbers at this bridge; only with PUBLIC_URL set. */
  async pointNumberHere(numberSid: string): Promise<ConsoleNumber> {
    const accountSid = this.twilio.accountSid;
    if (!this.server.publicUrl)
      throw new SetupError('set PUBLIC_URL first (the address Twilio reaches)');
    if (!accountSid || !this.twilioRest.available)
      throw new SetupError('set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN first');
    const url = this.streamUrls.webhookUrl(this.server.publicUrl);
    const number = await this.twilioRest.setVoiceUrl(accountSid, numberSid, url);
    this.log.log(`voice webhook of ${number.phoneNumber} set to ${url} from the console`);
    return { ...number, pointsHere: pointsAt(number.voiceUrl, url) };
  }

  private async runChecks(baseUrl: string): Promise<SetupReport> {
    const webhookUrl = this.streamUrls.webhookUrl(baseUrl);
    const [openai, twilio] = await Promise.all([this.provider.run(), this.checkTwilio(webhookUrl)]);
    return {
      checks: [this.checkConfig(), this.checkPublicUrl(), openai, twilio.check],
      numbers: twilio.numbers,
      webhookUrl,
      canSetWebhook: this.server.publicUrl !== undefined,
    };
  }

  private checkConfig(): SetupCheck {
    const title = 'Configuration';
    const profiles = Object.keys(this.callControl.profiles).length;
    const tools = this.tools.sessionTools().length;
    if (!this.twilio.validateSignatures) {
      return {
        name: 'config',
        title,
        state: 'fail',
        detail:
          'TWILIO_VALIDATE_SIGNATURES=false: anyone who finds this bridge can open calls on it',
        fix: 'set TWILIO_VALIDATE_SIGNATURES=true and TWILIO_AUTH_TOKEN',
      };
    }
    return {
      name: 'config',
      title,
      state: 'ok',
      detail: `environment valid; signatures checked; ${profiles} profile(s), ${tools} tool(s)`,
    };
  }

  private checkPublicUrl(): SetupCheck {
    const title = 'Public URL (wss)';
    const url = this.server.publicUrl;
    if (!url) {
      return {
        name: 'public-url',
        title,
        state: 'fail',
        detail: 'PUBLIC_URL is not set: the stream URL is guessed from each request',
        fix: 'set PUBLIC_URL to the https:// address Twilio reaches, e.g. https://voice.example.com',
      };
    }
    if (!url.startsWith('https://')) {
      return {
        name: 'public-url',
        title,
        state: 'fail',
        detail: `${url} gives a ws:// stream; Twilio requires wss://`,
        fix: 'serve the bridge over TLS (a proxy or a tunnel) and set PUBLIC_URL to its https:// address',
      };
    }
    return {
      name: 'public-url',
      title,
      state: 'ok',
      detail: `${url} (stream at ${this.streamUrls.streamUrl(url)})`,
    };
  }

  /**
   * The credentials, by listing the account's numbers; each number then shows whether its voice
   * webhook is `webhookUrl` (the page offers to point the others here).
   */
  private async checkTwilio(
    webhookUrl: string,
  ): Promise<{ check: SetupCheck; numbers: ConsoleNumber[] }> {
    const title = 'Twilio account and numbers';
    const accountSid = this.twilio.accountSid;
    const fail = (detail: string, fix: string) => ({
      check: { name: 'twilio' as const, title, state: 'fail' as const, detail, fix },
      numbers: [],
    });
    if (!accountSid || !this.twilioRest.available) {
      return fail(
        'TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN is not set: numbers cannot be listed',
        'set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (Twilio Console > Account info)',
      );
    }
    try {
      const listed = await withTimeout(
        this.twilioRest.listNumbers(accountSid, MAX_LISTED_NUMBERS),
        CHECK_TIMEOUT_MS,
      );
      const numbers = listed.map((n) => ({ ...n, pointsHere: pointsAt(n.voiceUrl, webhookUrl) }));
      const here = numbers.filter((n) => n.pointsHere).length;
      return {
        check: {
          name: 'twilio',
          title,
          state: 'ok',
          detail:
            `credentials accepted for ${accountSid}; ${numbers.length} number(s), ` +
            `${here} pointing here` +
            (numbers.length > here ? ' (use "Point here" below for the others)' : ''),
        },
        numbers,
      };
    } catch (error) {
      const { status, message } = error as { status?: number; message?: string };
      if (status === 401 || status === 403) {
        return fail(
          `Twilio refused the credentials (HTTP ${status})`,
          'check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN',
        );
      }
      return fail(
        `could not list the numbers: ${status ? `HTTP ${status} ` : ''}${message ?? 'error'}`,
        'check egress to the Twilio API (or TWILIO_API_BASE_URL)',
      );
    }
  }
}

/** A request the checklist cannot act on yet (answered 409 with the reason). */
export class SetupError extends Error {}

/** Our /api/twiml, with or without a query (`?profile=...`). */
function pointsAt(voiceUrl: string | undefined, webhookUrl: string): boolean {
  return voiceUrl === webhookUrl || Boolean(voiceUrl?.startsWith(`${webhookUrl}?`));
}

/** The twilio client has its own timeout per request; this bounds the whole listing. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
