import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  HttpException,
  Inject,
  Logger,
  NotFoundException,
  Param,
  Post,
  Req,
  Res,
  ServiceUnavailableException,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CallRegistry } from '../call/call-registry.service.js';
import { CallSettingsService } from '../call/call-settings.service.js';
import { CallControlService } from '../call-control/call-control.service.js';
import {
  controlResponse,
  transferDestination,
  type ControlResponse,
} from '../call-control/control-response.js';
import {
  audioConfig,
  callControlConfig,
  limitsConfig,
  openaiConfig,
  serverConfig,
  twilioConfig,
} from '../config/config.namespaces.js';
import type {
  AudioConfig,
  CallControlConfig,
  LimitsConfig,
  OpenAIConfig,
  ServerConfig,
  TwilioConfig,
} from '../config/config.namespaces.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';
import { TwilioSignatureService } from '../twilio/twilio-signature.service.js';
import { CallMonitor } from './call-monitor.service.js';
import type { CallDetail, RecentCallSummary } from './console-call.views.js';
import type { LiveCallTable } from './console-call-list.js';
import { consoleOrigin } from './console-origin.js';
import { requireJson } from './require-json.js';
import { ConsoleAuthGuard, sessionOfRequest } from './console-auth.guard.js';
import { ConsoleSessions } from './console-sessions.service.js';
import {
  StreamRelayClient,
  type StreamRelay,
} from '../stream-relay/stream-relay-client.service.js';
import { snapshotOf } from './console-view-source.js';
import {
  SetupChecks,
  SetupError,
  type ConsoleNumber,
  type SetupReport,
} from './setup-checks.service.js';
import { SseStream } from '../http/sse-stream.js';
import { HistoryService } from '../history/history.service.js';
import { recentFromHistory } from './console-history-recent.js';

const NUMBER_SID = /^PN[0-9a-fA-F]{32}$/;

/**
 * The console's data routes (all under /console/api): a session cookie or the Bearer token, 401
 * otherwise. Mutations take JSON only: with the SameSite=Strict cookie, a cross-site page can
 * neither send the cookie nor a JSON body without a CORS preflight, which we never allow.
 */
@ApiExcludeController()
@Controller('console/api')
@UseGuards(ConsoleAuthGuard)
export class ConsoleApiController {
  private readonly log = new Logger('Console');

  constructor(
    private readonly monitor: CallMonitor,
    private readonly checks: SetupChecks,
    private readonly registry: CallRegistry,
    private readonly twilioRest: TwilioRestService,
    private readonly signatures: TwilioSignatureService,
    private readonly settings: CallSettingsService,
    private readonly tools: ToolRegistry,
    private readonly control: CallControlService,
    private readonly history: HistoryService,
    private readonly sessions: ConsoleSessions,
    private readonly relays: StreamRelayClient,
    @Inject(callControlConfig.KEY) private readonly callControl: CallControlConfig,
    @Inject(openaiConfig.KEY) private readonly openai: OpenAIConfig,
    @Inject(audioConfig.KEY) private readonly audio: AudioConfig,
    @Inject(twilioConfig.KEY) private readonly twilio: TwilioConfig,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
    @Inject(serverConfig.KEY) private readonly server: ServerConfig,
  ) {}

  /**
   * Who the page is talking to, and what it may offer. `origin` is the one the listen socket
   * accepts (PUBLIC_URL's): a page opened at another address is refused the upgrade with no
   * reason the browser can read, so the page compares before it tries.
   */
  @Get('me')
  me(@Req() req: Request): {
    transferNumbers: string[];
    canControlCalls: boolean;
    maxConcurrentCalls: number;
    history: boolean;
    origin?: string;
  } {
    return {
      transferNumbers: this.control.transferNumbers(),
      canControlCalls: this.twilioRest.available,
      maxConcurrentCalls: this.registry.maxConcurrentCalls,
      history: this.history.enabled,
      origin: consoleOrigin(req, this.server),
    };
  }

  @Get('checklist')
  checklist(@Req() req: Request): Promise<SetupReport> {
    return this.checks.run(this.signatures.baseUrlOf(req));
  }

  /** Points a number's voice webhook at this bridge (the page asks for confirmation first). */
  @Post('numbers/:sid/point-here')
  @HttpCode(200)
  async pointHere(@Param('sid') sid: string, @Req() req: Request): Promise<ConsoleNumber> {
    requireJson(req);
    if (!NUMBER_SID.test(sid)) throw new BadRequestException('not a phone number sid (PN...)');
    try {
      return await this.checks.pointNumberHere(sid);
    } catch (error) {
      if (error instanceof SetupError) throw new ConflictException(error.message);
      const { status, message } = error as { status?: number; message?: string };
      if (status === 404) throw new NotFoundException(`no number ${sid} in this account`);
      throw new ServiceUnavailableException(`Twilio: ${message ?? 'request failed'}`);
    }
  }

  @Get('calls')
  /** Live calls as JSON; `partial: true` while the cluster's shared store cannot be read. */
  calls(): Promise<LiveCallTable> {
    return this.monitor.liveCalls();
  }

  /** The calls table as server-sent events (`calls`), refreshed whenever a row changes. */
  @Get('live')
  live(@Req() req: Request, @Res() res: Response): void {
    this.monitor.assertFollowerRoom();
    this.monitor.followCalls(this.stream(req, res));
  }

  @Get('recent')
  async recent(): Promise<{ calls: RecentCallSummary[] }> {
    return { calls: await recentFromHistory(this.history, await this.monitor.recentCalls()) };
  }

  /**
   * A call of this instance; one live on another, as its owner's snapshot (cut to the event
   * bound, marked `truncated`, as a stream's); or one another instance carried (its record).
   */
  @Get('calls/:callSid')
  async call(@Param('callSid') callSid: string): Promise<CallDetail> {
    const detail =
      this.monitor.detail(callSid) ??
      (await this.remoteDetail(callSid)) ??
      (await this.monitor.recordDetail(callSid));
    if (!detail) throw new NotFoundException(`no live or recent call ${callSid}`);
    return detail;
  }

  /**
   * One call as server-sent events: `snapshot`, then `entry`, `stats`, and `ended`. A call live
   * on another instance of the cluster is followed there, and its events relayed here.
   */
  @Get('calls/:callSid/live')
  async followCall(
    @Param('callSid') callSid: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (this.monitor.has(callSid)) {
      this.monitor.assertFollowerRoom();
      return this.monitor.followCall(callSid, this.stream(req, res));
    }
    const relay = await this.openRemoteView(callSid);
    if (!relay) throw new NotFoundException(`no live or recent call ${callSid}`);
    // The page may have gone, or its session been ended (a logout), while the owner answered.
    if (!res.socket || res.socket.destroyed) return relay.close();
    if (await this.sessionEnded(req)) {
      relay.close();
      throw new UnauthorizedException('the console session has ended');
    }
    relay.attach(this.stream(req, res));
  }

  /** Hangs up a call of the cluster: its owner does it, whichever instance that is. */
  @Post('calls/:callSid/hangup')
  @HttpCode(200)
  async hangUp(@Param('callSid') callSid: string, @Req() req: Request): Promise<ControlResponse> {
    requireJson(req);
    const response = controlResponse(callSid, await this.control.hangUp(callSid));
    this.log.log(`call ${callSid} hung up from the console`);
    return response;
  }

  /**
   * Hands the caller over, to an allowed number only, with a short sentence first and then
   * `<Dial>` (or REFER), by the call's owner, whichever instance that is.
   */
  @Post('calls/:callSid/transfer')
  @HttpCode(202)
  async transfer(
    @Param('callSid') callSid: string,
    @Body() body: unknown,
    @Req() req: Request,
  ): Promise<ControlResponse> {
    requireJson(req);
    const to = transferDestination(body);
    const result = await this.control.transfer(callSid, to, { announce: true });
    const response = controlResponse(callSid, result);
    this.log.log(`call ${callSid} transferred to ${to} from the console`);
    return response;
  }

  /** The default session and the named profiles, read-only, with the tools the model gets. */
  @Get('profiles')
  profiles() {
    const defaults = this.settings.settingsFor(undefined, undefined);
    return {
      default: {
        ...defaults,
        model: this.openai.model,
        turnDetection: this.openai.turnDetection,
        inputFormat: this.audio.inputFormat,
        inputTranscriptionModel: this.openai.inputTranscriptionModel,
      },
      profiles: Object.entries(this.callControl.profiles).map(([name, profile]) => ({
        name,
        ...this.settings.settingsFor(name, undefined),
        numbers: profile.numbers ?? [],
      })),
      tools: this.tools.sessionTools(),
      phoneNumber: this.twilio.phoneNumber,
    };
  }

  /** The snapshot of a call live on another instance; undefined when none carries it. */
  private async remoteDetail(callSid: string): Promise<CallDetail | undefined> {
    const relay = await this.openRemoteView(callSid);
    return relay && snapshotOf(await relay.firstEvent());
  }

  /** A relay from the instance carrying live call `callSid`, when that is another one. */
  private async openRemoteView(callSid: string): Promise<StreamRelay | undefined> {
    const owner = await this.relays.ownerElsewhere(callSid);
    if (!owner) return undefined;
    const opening = await this.relays.open('console-view', owner, callSid);
    if (opening.ok) return opening.relay;
    // Ended meanwhile: its record, if any, answers instead.
    if (opening.status === 404) return undefined;
    throw new HttpException(opening.message, opening.status);
  }

  /** The request's console session was ended since its guard let it in (not an API token's). */
  private async sessionEnded(req: Request): Promise<boolean> {
    const session = sessionOfRequest(req);
    return session !== undefined && (await this.sessions.state(session.key)) === 'ended';
  }

  /** A stream that ends with the session that opened it (a logout anywhere, or its expiry). */
  private stream(req: Request, res: Response): SseStream {
    const stream = new SseStream(res, this.limits.sseMaxDurationS * 1000);
    const session = sessionOfRequest(req);
    if (session) {
      const { key, expiresAt } = session;
      stream.onClose(this.sessions.track(key, (why) => stream.close(why), expiresAt));
    }
    return stream;
  }
}
