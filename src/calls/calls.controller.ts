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
import { CallRegistry } from '../call/call-registry.service.js';
import { twilioConfig } from '../config/config.namespaces.js';
import type { TwilioConfig } from '../config/config.namespaces.js';
import { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';
import { TwilioSignatureService } from '../twilio/twilio-signature.service.js';
import { isCallSid } from '../twilio/sids.js';
import { ApiTokenGuard } from './api-token.guard.js';
import { CallEventFollowers } from './call-event-followers.service.js';

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

export interface ActiveCall {
  callSid: string;
  streamSid: string;
  from?: string;
  to?: string;
  profile?: string;
  startedAt: string;
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
    @Inject(twilioConfig.KEY) private readonly twilioCfg: TwilioConfig,
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
    if (!this.registry.hasCapacity())
      throw new ServiceUnavailableException('no capacity for another call');
    const { to, instructions, greeting, parameters } = parsed.data;
    const call = await this.twilioRest.createCall({
      accountSid,
      to,
      from: phoneNumber,
      twimlUrl: `${this.signatures.baseUrlOf(req)}/api/twiml`,
    });
    this.plans.set(call.sid, { instructions, greeting, parameters });
    return { callSid: call.sid, status: call.status };
  }

  @Get()
  @ApiOperation({ summary: 'The calls in progress on this instance' })
  list(): { calls: ActiveCall[] } {
    return {
      calls: this.registry.all().map(({ context }) => ({
        callSid: context.callSid,
        streamSid: context.streamSid,
        from: context.from,
        to: context.to,
        profile: context.profile,
        startedAt: context.startedAt.toISOString(),
        durationS: Math.round((Date.now() - context.startedAt.getTime()) / 1000),
      })),
    };
  }

  @Post(':callSid/hangup')
  @HttpCode(200)
  @ApiOperation({ summary: 'Hang up a live call' })
  async hangUp(
    @Param('callSid') callSid: string,
  ): Promise<{ callSid: string; status: 'completed' }> {
    // Only calls this bridge is carrying: never any CallSid of the account.
    const session = this.registry.get(this.validSid(callSid));
    if (!session) throw new NotFoundException(`no active call ${callSid}`);
    if (this.twilioRest.available)
      await this.twilioRest.hangUp(session.context.accountSid, callSid);
    session.close('hung up through the API');
    return { callSid, status: 'completed' };
  }

  /**
   * The call's events as they happen (server-sent events), until it ends or SSE_MAX_DURATION_S;
   * 404 for a call that is neither live nor recently ended, 429 beyond the follower limits.
   */
  @Get(':callSid/events')
  @ApiOperation({ summary: "A call's events (call.*) as server-sent events, until call.ended" })
  followEvents(@Param('callSid') callSid: string, @Res() res: Response): void {
    this.validSid(callSid);
    if (!this.registry.get(callSid)) {
      if (this.registry.recentlyEnded(callSid)) return this.followers.ended(res);
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
    this.followers.follow(callSid, res);
  }

  private validSid(callSid: string): string {
    if (!isCallSid(callSid)) throw new BadRequestException('not a Twilio call SID (CA + 32 hex)');
    return callSid;
  }
}
