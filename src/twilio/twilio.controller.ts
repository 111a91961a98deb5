import {
  BadRequestException,
  Controller,
  Get,
  Header,
  HttpCode,
  Post,
  Req,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import type { Request } from 'express';
import { CallPlans } from '../call/call-plans.service.js';
import { CallRegistry } from '../call/call-registry.service.js';
import { CallSettingsService } from '../call/call-settings.service.js';
import { mediaStreamUrl } from './public-url.js';
import { StreamTokenService } from './stream-token.service.js';
import { TwilioSignatureGuard } from './twilio-signature.guard.js';
import { TwilioSignatureService } from './twilio-signature.service.js';
import { busyTwiml, streamTwiml } from './twiml.js';

/** The voice webhook Twilio calls when a call comes in: TwiML that opens the media stream. */
@Controller('api')
@UseGuards(TwilioSignatureGuard)
export class TwilioController {
  constructor(
    private readonly signatures: TwilioSignatureService,
    private readonly streamTokens: StreamTokenService,
    private readonly registry: CallRegistry,
    private readonly settings: CallSettingsService,
    private readonly plans: CallPlans,
  ) {}

  @Post('twiml')
  @HttpCode(200)
  @Header('Content-Type', 'text/xml')
  twimlForPost(@Req() req: Request): string {
    return this.twiml(req, req.body);
  }

  // For numbers whose voice webhook is configured as GET.
  @Get('twiml')
  @Header('Content-Type', 'text/xml')
  twimlForGet(@Req() req: Request): string {
    return this.twiml(req, req.query);
  }

  private twiml(req: Request, params: unknown): string {
    const fields = (params ?? {}) as Record<string, unknown>;
    const callSid = typeof fields.CallSid === 'string' ? fields.CallSid : undefined;
    if (!callSid) throw new BadRequestException('CallSid is required');
    // While draining for a deploy, 503 lets Twilio's fallback URL / the load balancer retry elsewhere.
    if (this.registry.isDraining) throw new ServiceUnavailableException('shutting down');
    if (!this.registry.hasCapacity()) return busyTwiml();
    const text = (record: Record<string, unknown>, name: string) =>
      typeof record[name] === 'string' ? record[name] : undefined;
    const to = text(fields, 'To');
    // The profile travels as a short key, so the stream may land on any instance.
    const profile = this.settings.profileFor(text(req.query, 'profile'), to);
    return streamTwiml({
      streamUrl: mediaStreamUrl(this.signatures.baseUrlOf(req)),
      parameters: {
        // Parameters an outbound call was started with; ours below win on a name clash.
        ...this.plans.get(callSid)?.parameters,
        CallSid: callSid,
        From: text(fields, 'From'),
        To: to,
        // inbound | outbound-api | outbound-dial: the console shows it.
        Direction: text(fields, 'Direction'),
        profile,
        token: this.streamTokens.issue(callSid),
      },
    });
  }
}
