import {
  BadRequestException,
  Controller,
  Get,
  Header,
  HttpCode,
  Inject,
  Logger,
  Post,
  Req,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import type { Request } from 'express';
import { CallPlans } from '../call/call-plans.service.js';
import { CallRegistry } from '../call/call-registry.service.js';
import { CallDirectory } from '../directory/call-directory.js';
import type { ResolvedSurfaces } from '../config/bridge-options.js';
import { BRIDGE_SURFACES } from '../config/config.module.js';
import { CallSettingsService } from '../call/call-settings.service.js';
import { recordingConfig, type RecordingConfig } from '../config/config.namespaces.js';
import { isAccountSid, isCallSid } from './sids.js';
import { StreamReplayMemory } from './stream-replay-memory.js';
import { StreamTokenService, type BoundStreamParameters } from './stream-token.service.js';
import { StreamUrlService } from './stream-url.service.js';
import { TwilioSignatureGuard } from './twilio-signature.guard.js';
import { busyTwiml, noStreamTwiml, streamTwiml, twimlText } from './twiml.js';

/** The voice webhook Twilio calls when a call comes in: TwiML that opens the media stream. */
@Controller('api')
@UseGuards(TwilioSignatureGuard)
export class TwilioController {
  private readonly log = new Logger(TwilioController.name);

  constructor(
    private readonly streamUrls: StreamUrlService,
    private readonly streamTokens: StreamTokenService,
    private readonly registry: CallRegistry,
    private readonly settings: CallSettingsService,
    private readonly plans: CallPlans,
    private readonly replays: StreamReplayMemory,
    private readonly directory: CallDirectory,
    @Inject(BRIDGE_SURFACES) private readonly surfaces: ResolvedSurfaces,
    @Inject(recordingConfig.KEY) private readonly recording: RecordingConfig,
  ) {}

  @Post('twiml')
  @HttpCode(200)
  @Header('Content-Type', 'text/xml')
  twimlForPost(@Req() req: Request): Promise<string> {
    return this.twiml(req, req.body);
  }

  // For numbers whose voice webhook is configured as GET.
  @Get('twiml')
  @Header('Content-Type', 'text/xml')
  twimlForGet(@Req() req: Request): Promise<string> {
    return this.twiml(req, req.query);
  }

  private async twiml(req: Request, params: unknown): Promise<string> {
    const fields = (params ?? {}) as Record<string, unknown>;
    const callSid = fields.CallSid;
    if (callSid === undefined) throw new BadRequestException('CallSid is required');
    // Strict formats before a token is signed: a re-split signed request is refused here.
    if (!isCallSid(callSid)) throw new BadRequestException('CallSid is not a Twilio call SID');
    if (fields.AccountSid !== undefined && !isAccountSid(fields.AccountSid)) {
      throw new BadRequestException('AccountSid is not a Twilio account SID');
    }
    // While draining for a deploy, 503 lets Twilio's fallback URL / the load balancer retry elsewhere.
    if (this.registry.isDraining) throw new ServiceUnavailableException('shutting down');
    // One stream per call, ever: a replayed (or repeated) webhook gets no second stream token.
    if (this.registry.get(callSid) || (await this.replays.hasStream(callSid))) {
      this.log.warn(`webhook for callSid=${callSid}, which already has a stream: no new <Stream>`);
      return noStreamTwiml();
    }
    // Room here (MAX_CONCURRENT_CALLS) and in the cluster (CLUSTER_MAX_CALLS, cluster mode).
    if (!this.registry.hasCapacity() || !(await this.directory.hasClusterCapacity())) {
      return busyTwiml();
    }
    const text = (record: Record<string, unknown>, name: string) =>
      typeof record[name] === 'string' ? record[name] : undefined;
    const to = text(fields, 'To');
    // The profile travels as a short key, so the stream may land on any instance.
    const profile = this.settings.profileFor(text(req.query, 'profile'), to);
    // As the TwiML writes them (cut and cleaned), which is what Twilio's `start` gives back.
    const written = (value: string | undefined) =>
      value === undefined ? undefined : twimlText(value);
    const bound: BoundStreamParameters = {
      From: written(text(fields, 'From')),
      To: written(to),
      // inbound | outbound-api | outbound-dial: the console shows it.
      Direction: written(text(fields, 'Direction')),
      profile: written(profile),
    };
    return streamTwiml({
      // The caller is told before anything is recorded (the recording starts with the stream).
      notice: this.recording.recording ? this.recording.recordingNotice : undefined,
      streamUrl: this.streamUrls.forRequest(req),
      // Only where it is served: Twilio reports a 404 callback as an error of the call.
      statusCallbackUrl: this.surfaces.statusCallback
        ? this.streamUrls.statusCallbackFor(req)
        : undefined,
      parameters: {
        // Parameters an outbound call was started with; ours below win on a name clash.
        ...(await this.plans.get(callSid))?.parameters,
        CallSid: callSid,
        ...bound,
        token: this.streamTokens.issue(callSid, bound),
      },
    });
  }
}
