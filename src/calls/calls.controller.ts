import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Req,
  Res,
  ServiceUnavailableException,
  UseGuards,
  HttpException,
  HttpStatus,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { CallPlans } from '../call/call-plans.service.js';
import type { CallTransport } from '../call/call-context.js';
import { CallRegistry } from '../call/call-registry.service.js';
import { callControlConfig, twilioConfig } from '../config/config.namespaces.js';
import type { CallControlConfig, TwilioConfig } from '../config/config.namespaces.js';
import { CallDirectory, type ControlCommand } from '../cluster/call-directory.js';
import { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';
import { TwilioSignatureService } from '../twilio/twilio-signature.service.js';
import { ApiTokenGuard } from './api-token.guard.js';
import { isCallId, transferRefusal, transferTarget } from './call-control.rules.js';
import { CallEventFollowers } from './call-event-followers.service.js';
import { CallEventHistory } from './call-event-history.service.js';

const outboundCallSchema = z.strictObject({
  to: z
    .string()
    .regex(/^\+[1-9][0-9]{6,14}$|^sip:\S+$/, 'expected an E.164 number such as +15551234567'),
  instructions: z.string().min(1).max(20_000).optional(),
  greeting: z.string().min(1).max(1_000).optional(),
  parameters: z
    .record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), z.string().max(500))
    .refine((p) => Object.keys(p).length <= 20, 'at most 20 parameters')
    .optional(),
});

/** `{to}`; `{number}` is taken too, the name the transfer_call tool's argument has. */
const transferSchema = z
  .strictObject({ to: transferTarget.optional(), number: transferTarget.optional() })
  .refine((body) => (body.to === undefined) !== (body.number === undefined), {
    message: 'give the destination as "to"',
  });

/** A live call of the cluster, whichever instance (`instance`) carries it. */
export interface ActiveCall {
  callSid: string;
  instance: string;
  /** `media` (Twilio Media Streams) or `sip` (OpenAI SIP). */
  transport: CallTransport;
  from?: string;
  to?: string;
  startedAt: string;
  direction: 'inbound' | 'outbound';
  streamSid?: string;
  profile?: string;
  durationS: number;
}

/** Call control for applications: place, list, hang up, and follow calls. */
@ApiTags('calls')
@ApiBearerAuth()
@Controller('api/calls')
@UseGuards(ApiTokenGuard)
export class CallsController {
  constructor(
    private readonly registry: CallRegistry,
    private readonly plans: CallPlans,
    private readonly twilioRest: TwilioRestService,
    private readonly signatures: TwilioSignatureService,
    private readonly followers: CallEventFollowers,
    private readonly history: CallEventHistory,
    private readonly directory: CallDirectory,
    @Inject(twilioConfig.KEY) private readonly twilioCfg: TwilioConfig,
    @Inject(callControlConfig.KEY) private readonly callControl: CallControlConfig,
  ) {}

  /**
   * Places a call. Twilio fetches our own `/api/twiml` once it is answered (`url:`, not inline
   * TwiML), so the TwiML and its stream token are made for the real CallSid; the per-call
   * instructions and greeting wait here, by CallSid, for the stream.
   */
  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Place an outbound call (201: { callSid, status })' })
  @ApiBody({ schema: z.toJSONSchema(outboundCallSchema) as Record<string, unknown> })
  async create(
    @Body() body: unknown,
    @Req() req: Request,
  ): Promise<{ callSid: string; status: string }> {
    const parsed = outboundCallSchema.safeParse(body);
    if (!parsed.success) {
      throw new BadRequestException(
        parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`),
      );
    }
    const { accountSid, phoneNumber } = this.twilioCfg;
    if (!accountSid || !phoneNumber || !this.twilioRest.available) {
      throw new ServiceUnavailableException(
        'outbound calls need TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER',
      );
    }
    if (!this.registry.hasCapacity() || !(await this.directory.hasClusterCapacity()))
      throw new ServiceUnavailableException('no capacity for another call');
    const { to, instructions, greeting, parameters } = parsed.data;
    const call = await this.twilioRest.createCall({
      accountSid,
      to,
      from: phoneNumber,
      twimlUrl: `${this.signatures.baseUrlOf(req)}/api/twiml`,
    });
    // Shared (cluster mode): Twilio's webhook and stream for this call may reach any instance.
    await this.plans.set(call.sid, { instructions, greeting, parameters });
    return { callSid: call.sid, status: call.status };
  }

  @Get()
  @ApiOperation({ summary: 'The calls in progress, on every instance of the cluster' })
  async list(): Promise<{ calls: ActiveCall[] }> {
    const now = Date.now();
    const calls = await this.directory.list();
    return {
      calls: calls.map((call) => ({
        callSid: call.callSid,
        instance: call.instance,
        from: call.from,
        to: call.to,
        startedAt: call.startedAt,
        direction: call.direction,
        transport: call.transport ?? 'media',
        streamSid: call.streamSid,
        profile: call.profile,
        durationS: Math.max(0, Math.round((now - Date.parse(call.startedAt)) / 1000)),
      })),
    };
  }

  /** Any instance takes it; the instance carrying the call hangs it up (one REST request). */
  @Post(':callSid/hangup')
  @HttpCode(200)
  @ApiOperation({ summary: 'Hang up a live call' })
  async hangUp(@Param('callSid') callSid: string): Promise<Record<string, unknown>> {
    // Only calls this bridge is carrying: never any CallSid of the account.
    return this.runOnOwner(this.validSid(callSid), { action: 'hangup' });
  }

  /**
   * Transfers a live call at once, without a handover sentence (the `transfer_call` tool has one):
   * a SIP call through OpenAI's REFER, a media call by redirecting it to `<Dial>`. When
   * TRANSFER_NUMBER or TRANSFER_ALLOWED_NUMBERS is set, only those destinations are allowed.
   */
  @Post(':callSid/transfer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Transfer a live call ({ to: "+1555..." | "sip:..." })' })
  @ApiBody({ schema: z.toJSONSchema(transferSchema) as Record<string, unknown> })
  async transfer(
    @Param('callSid') callSid: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const parsed = transferSchema.safeParse(body);
    if (!parsed.success) {
      throw new BadRequestException(
        parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`),
      );
    }
    const to = (parsed.data.to ?? parsed.data.number) as string;
    // Checked here for a clear 400 before routing; the owner checks the same rule again.
    const refusal = transferRefusal(to, this.callControl);
    if (refusal) throw new BadRequestException(refusal);
    // The owner acts, whichever instance was asked (cluster mode), and says how it went.
    return this.runOnOwner(this.validSid(callSid), { action: 'transfer', number: to });
  }

  /**
   * The call's events so far, then as they happen (server-sent events), until it ends or
   * SSE_MAX_DURATION_S; 404 for a call that is neither live nor recently ended, 429 beyond the
   * follower limits.
   */
  @Get(':callSid/events')
  @ApiOperation({ summary: "A call's events (call.*) as server-sent events, until call.ended" })
  async followEvents(@Param('callSid') callSid: string, @Res() res: Response): Promise<void> {
    this.validSid(callSid);
    // Live here, or on another instance (cluster mode): its owner's events come through the bus.
    if (!this.registry.get(callSid) && !(await this.directory.get(callSid))) {
      const recent = await this.directory.recentRecords();
      if (this.registry.recentlyEnded(callSid) || recent.some((r) => r.callSid === callSid)) {
        return this.followers.ended(res, this.history.of(callSid));
      }
      throw new NotFoundException(`no live or recently ended call ${callSid}`);
    }
    const refusal = this.followers.refusalFor(callSid);
    if (refusal) {
      throw new HttpException(
        refusal === 'too_many'
          ? 'too many event followers (MAX_SSE_FOLLOWERS)'
          : 'too many event followers for this call (MAX_SSE_FOLLOWERS_PER_CALL)',
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    // What already happened first (a follower that connects after the first transcript still
    // sees it), then live: both in this tick, so nothing is missed or doubled (events are
    // emitted synchronously).
    this.followers.follow(callSid, res, this.history.of(callSid));
  }

  /** Runs a command where the call lives and answers with the owner's status and body. */
  private async runOnOwner(
    callSid: string,
    command: ControlCommand,
  ): Promise<Record<string, unknown>> {
    const result = await this.directory.control(callSid, command);
    if (result.status >= 400) {
      throw new HttpException(
        { statusCode: result.status, message: result.body.message ?? 'call control failed' },
        result.status,
      );
    }
    return result.body;
  }

  private validSid(callSid: string): string {
    // A media call is a Twilio CallSid; a SIP call is OpenAI's call id (`rtc_...`).
    if (isCallId(callSid)) return callSid;
    throw new BadRequestException('not a call id (a Twilio CallSid CA + 32 hex, or rtc_...)');
  }
}
