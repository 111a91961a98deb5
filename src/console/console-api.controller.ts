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
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { CallRegistry } from '../call/call-registry.service.js';
import { CallSettingsService } from '../call/call-settings.service.js';
import { allowedTransferNumbers } from '../calls/call-control.rules.js';
import { CallDirectory, type ControlCommand } from '../cluster/call-directory.js';
import {
  audioConfig,
  callControlConfig,
  limitsConfig,
  openaiConfig,
  twilioConfig,
} from '../config/config.namespaces.js';
import type {
  AudioConfig,
  CallControlConfig,
  LimitsConfig,
  OpenAIConfig,
  TwilioConfig,
} from '../config/config.namespaces.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';
import { TwilioSignatureService } from '../twilio/twilio-signature.service.js';
import {
  CallMonitor,
  type CallDetail,
  type ConsoleCallRow,
  type RecentCallSummary,
} from './call-monitor.service.js';
import { requireJson } from './require-json.js';
import { ConsoleAuthGuard } from './console-auth.guard.js';
import {
  SetupChecks,
  SetupError,
  type ConsoleNumber,
  type SetupReport,
} from './setup-checks.service.js';
import { SseStream } from '../http/sse-stream.js';

const CALL_SID = /^[A-Za-z0-9_-]{1,64}$/;
const NUMBER_SID = /^PN[0-9a-fA-F]{32}$/;
const transferSchema = z.strictObject({ to: z.string().min(1).max(100) });

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
    private readonly directory: CallDirectory,
    @Inject(callControlConfig.KEY) private readonly callControl: CallControlConfig,
    @Inject(openaiConfig.KEY) private readonly openai: OpenAIConfig,
    @Inject(audioConfig.KEY) private readonly audio: AudioConfig,
    @Inject(twilioConfig.KEY) private readonly twilio: TwilioConfig,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {}

  /** Who the page is talking to, and what it may offer. */
  @Get('me')
  me(): { transferNumbers: string[]; canControlCalls: boolean; maxConcurrentCalls: number } {
    return {
      transferNumbers: this.transferNumbers(),
      canControlCalls: this.twilioRest.available,
      maxConcurrentCalls: this.registry.maxConcurrentCalls,
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
  async calls(): Promise<{ calls: ConsoleCallRow[] }> {
    return { calls: await this.monitor.liveCalls() };
  }

  /** The calls table as server-sent events (`calls`), refreshed whenever a row changes. */
  @Get('live')
  live(@Res() res: Response): void {
    this.monitor.assertFollowerRoom();
    this.monitor.followCalls(this.stream(res));
  }

  @Get('recent')
  async recent(): Promise<{ calls: RecentCallSummary[] }> {
    return { calls: await this.monitor.recentCalls() };
  }

  @Get('calls/:callSid')
  async call(@Param('callSid') callSid: string): Promise<CallDetail> {
    // Here, or a call another instance of the cluster carried (its record only).
    const detail = this.monitor.detail(callSid) ?? (await this.monitor.recordDetail(callSid));
    if (!detail) throw new NotFoundException(`no live or recent call ${callSid}`);
    return detail;
  }

  /** One call as server-sent events: `snapshot`, then `entry`, `stats`, and `ended`. */
  @Get('calls/:callSid/live')
  followCall(@Param('callSid') callSid: string, @Res() res: Response): void {
    if (!this.monitor.detail(callSid))
      throw new NotFoundException(`no live or recent call ${callSid}`);
    this.monitor.assertFollowerRoom();
    this.monitor.followCall(callSid, this.stream(res));
  }

  /** Hangs up a call of the cluster: its owner does it, whichever instance that is. */
  @Post('calls/:callSid/hangup')
  @HttpCode(200)
  async hangUp(
    @Param('callSid') callSid: string,
    @Req() req: Request,
  ): Promise<{ callSid: string; status: 'completed' }> {
    requireJson(req);
    if (!CALL_SID.test(callSid)) throw new NotFoundException(`no live call ${callSid}`);
    await this.runOnOwner(callSid, { action: 'hangup' });
    this.log.log(`call ${callSid} hung up from the console`);
    return { callSid, status: 'completed' };
  }

  /**
   * Hands the caller over, to an allowed number only: a call of this instance with a short
   * sentence first, then `<Dial>`; a call of another instance at once, by its owner.
   */
  @Post('calls/:callSid/transfer')
  @HttpCode(202)
  async transfer(
    @Param('callSid') callSid: string,
    @Body() body: unknown,
    @Req() req: Request,
  ): Promise<{ callSid: string; to: string; status: 'transferring' }> {
    requireJson(req);
    const parsed = transferSchema.safeParse(body);
    if (!parsed.success) throw new BadRequestException('expected {"to": "+1555..."}');
    const allowed = this.transferNumbers();
    if (allowed.length === 0) {
      throw new ConflictException(
        'no transfer numbers: set TRANSFER_NUMBER or TRANSFER_ALLOWED_NUMBERS',
      );
    }
    const to = parsed.data.to.trim();
    if (!allowed.includes(to)) {
      throw new BadRequestException(
        `${to} is not an allowed transfer number (${allowed.join(', ')})`,
      );
    }
    if (!CALL_SID.test(callSid)) throw new NotFoundException(`no live call ${callSid}`);
    const session = this.registry.get(callSid);
    if (session) {
      if (!this.twilioRest.available)
        throw new ServiceUnavailableException('transfers need TWILIO_AUTH_TOKEN');
      session.context.transfer(to);
    } else {
      // Another instance's call (cluster mode): its owner transfers it.
      await this.runOnOwner(callSid, { action: 'transfer', number: to });
    }
    this.log.log(`call ${callSid} transferred to ${to} from the console`);
    return { callSid, to, status: 'transferring' };
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

  /** Runs a command on the call's owner (this instance or another one) and fails as it does. */
  private async runOnOwner(callSid: string, command: ControlCommand): Promise<void> {
    const result = await this.directory.control(callSid, command);
    if (result.status >= 400) {
      throw new HttpException(
        { statusCode: result.status, message: result.body.message ?? 'call control failed' },
        result.status,
      );
    }
  }

  private stream(res: Response): SseStream {
    return new SseStream(res, this.limits.sseMaxDurationS * 1000);
  }

  private transferNumbers(): string[] {
    return allowedTransferNumbers(this.callControl);
  }
}
