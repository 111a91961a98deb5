import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import {
  serverConfig,
  twilioConfig,
  type ServerConfig,
  type TwilioConfig,
} from '../config/config.namespaces.js';
import { isLocalEnvironment, mediaStreamUrl } from '../twilio/public-url.js';
import { BridgeMount } from './bridge-mount.service.js';

/** Warnings, once at start-up, for a configuration that works but is unsafe or will fail calls. */
@Injectable()
export class StartupWarnings implements OnApplicationBootstrap {
  private readonly log = new Logger('Security');

  constructor(
    @Inject(serverConfig.KEY) private readonly server: ServerConfig,
    @Inject(twilioConfig.KEY) private readonly twilio: TwilioConfig,
    private readonly mount: BridgeMount,
  ) {}

  onApplicationBootstrap(): void {
    const publicUrl = this.server.publicUrl;
    if (publicUrl?.startsWith('http://') && !isLocalEnvironment()) {
      this.log.warn(
        `PUBLIC_URL=${publicUrl} gives Twilio a ws:// Stream URL (${mediaStreamUrl(publicUrl, this.mount.path)}), but Twilio connects only to wss:// (error 31922): use an https:// PUBLIC_URL`,
      );
    }
    if (this.twilio.phoneNumber && !publicUrl && !isLocalEnvironment()) {
      this.log.warn(
        "TWILIO_PHONE_NUMBER is set but PUBLIC_URL is not: an outbound call (POST /api/calls) gives Twilio a TwiML URL built from the API request's Host header, which the client chooses; set PUBLIC_URL",
      );
    }
    if (!this.twilio.validateSignatures) {
      this.log.warn(
        'TWILIO_VALIDATE_SIGNATURES=false: Twilio signatures and stream tokens are NOT checked; anyone can open calls on this bridge',
      );
    }
  }
}
