import {
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  Inject,
  Param,
  Post,
  Req,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { z } from 'zod';
import { MAX_SAY_CHARS } from '../call/call-context.js';
import { instructionsProblem, MAX_INSTRUCTIONS_BYTES } from '../realtime/session-bounds.js';
import { CallPlans } from '../call/call-plans.service.js';
import { CallRegistry } from '../call/call-registry.service.js';
import { ApiTokenGuard } from '../http/api-token.guard.js';
import { CallDirectory } from '../directory/call-directory.js';
import { twilioConfig, type TwilioConfig } from '../config/config.namespaces.js';
import { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';
import { TwilioSignatureService } from '../twilio/twilio-signature.service.js';
import { MAX_TWIML_VALUE_LENGTH } from '../twilio/twiml.js';
import { StreamUrlService } from '../twilio/stream-url.service.js';
import { CallControlService } from './call-control.service.js';
import {
  controlRefusal,
  controlResponse,
  transferBodySchema,
  transferDestination,
  type ControlResponse,
} from './control-response.js';

/**
 * An outbound call's plan (`POST /api/calls`), kept by CallSid until its stream starts. Its
 * instructions are also held to MAX_INSTRUCTIONS_BYTES, as the session carries them (control
 * characters are 6-byte escapes there).
 */
const MAX_OUTBOUND_INSTRUCTIONS_CHARS = 20_000;
/**
 * Stream `<Parameter>`s of an outbound call: how many, each value's length, and all of them as
 * JSON, which is how Twilio's `start` carries them back. With the bridge's own parameters, the
 * largest `start` then still fits MAX_FRAME_BYTES_BEFORE_START.
 */
const MAX_OUTBOUND_PARAMETERS = 20;
const MAX_OUTBOUND_PARAMETER_CHARS = 500;
export const MAX_OUTBOUND_PARAMETERS_BYTES = 8 * 1024;

const outboundCallSchema = z.strictObject({
  to: z
    .string()
    .max(MAX_TWIML_VALUE_LENGTH)
    .regex(/^\+[1-9][0-9]{6,14}$|^sip:\S+$/, 'expected an E.164 number such as +15551234567'),
  instructions: z
    .string()
    .min(1)
    .max(MAX_OUTBOUND_INSTRUCTIONS_CHARS)
    .refine((text) => instructionsProblem(text) === undefined, {
      message: `over MAX_INSTRUCTIONS_BYTES (${MAX_INSTRUCTIONS_BYTES}) as the session carries them`,
    })
    .optional(),
  // Said as the call's first sentence: the bound of any sentence said on a call.
  greeting: z.string().min(1).max(MAX_SAY_CHARS).optional(),
  parameters: z
    .record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), z.string().max(MAX_OUTBOUND_PARAMETER_CHARS))
    .refine(
      (p) => Object.keys(p).length <= MAX_OUTBOUND_PARAMETERS,
      `at most ${MAX_OUTBOUND_PARAMETERS} parameters`,
    )
    .refine(
      (p) => Buffer.byteLength(JSON.stringify(p)) <= MAX_OUTBOUND_PARAMETERS_BYTES,
      `at most ${MAX_OUTBOUND_PARAMETERS_BYTES} bytes in all, as JSON`,
    )
    .optional(),
});

/** Twilio's own words for a refused request (its error code, when it gives one). */
function carrierReason(error: unknown): string {
  const { code, message, status } = (error ?? {}) as Record<string, unknown>;
  const text = typeof message === 'string' && message ? message : `HTTP ${String(status)}`;
  return typeof code === 'number' ? `${text} (Twilio error ${code})` : text;
}

/** Call control for applications: place a call, hang one up, transfer one. */
@ApiTags('calls')
@ApiBearerAuth()
@Controller('api/calls')
@UseGuards(ApiTokenGuard)
export class CallControlController {
  constructor(
    private readonly control: CallControlService,
    private readonly registry: CallRegistry,
    private readonly plans: CallPlans,
    private readonly twilioRest: TwilioRestService,
    private readonly signatures: TwilioSignatureService,
    private readonly streamUrls: StreamUrlService,
    private readonly directory: CallDirectory,
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
      throw controlRefusal(
        'unavailable',
        'outbound calls need TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER',
      );
    }
    if (!this.registry.hasCapacity() || !(await this.directory.hasClusterCapacity()))
      throw controlRefusal('unavailable', 'no capacity for another call');
    const { to, instructions, greeting, parameters } = parsed.data;
    const call = await this.twilioRest
      .createCall({
        accountSid,
        to,
        from: phoneNumber,
        twimlUrl: this.streamUrls.webhookUrl(this.signatures.baseUrlOf(req)),
      })
      .catch((error: unknown) => {
        throw controlRefusal('carrier_failed', `Twilio refused the call: ${carrierReason(error)}`);
      });
    // Shared (cluster mode): Twilio's webhook and stream for this call may reach any instance.
    await this.plans.set(call.sid, { instructions, greeting, parameters });
    return { callSid: call.sid, status: call.status };
  }

  /** Any instance takes it; the instance carrying the call hangs it up (one REST request). */
  @Post(':callSid/hangup')
  @HttpCode(200)
  @ApiOperation({ summary: 'Hang up a live call' })
  async hangUp(@Param('callSid') callSid: string): Promise<ControlResponse> {
    // Only calls this bridge is carrying: never any CallSid of the account.
    return controlResponse(callSid, await this.control.hangUp(callSid));
  }

  /**
   * Transfers a live call at once, without a handover sentence (the `transfer_call` tool has
   * one): a SIP call through OpenAI's REFER, a media call by redirecting it to `<Dial>`. Only to
   * TRANSFER_NUMBER or TRANSFER_ALLOWED_NUMBERS; with neither set, transfers are off (409).
   */
  @Post(':callSid/transfer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Transfer a live call ({ to: "+1555..." | "tel:..." | "sip:..." })' })
  @ApiBody({ schema: z.toJSONSchema(transferBodySchema) as Record<string, unknown> })
  async transfer(
    @Param('callSid') callSid: string,
    @Body() body: unknown,
  ): Promise<ControlResponse> {
    const to = transferDestination(body);
    return controlResponse(callSid, await this.control.transfer(callSid, to));
  }
}
