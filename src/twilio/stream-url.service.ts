import { Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import {
  isInsecureStreamUrl,
  isLocalEnvironment,
  mediaStreamUrl,
  streamStatusUrl,
  twimlUrl,
} from './public-url.js';
import { BridgeMount } from '../http/bridge-mount.service.js';
import { TwilioSignatureService } from './twilio-signature.service.js';

/**
 * The URLs the bridge gives Twilio: the `<Stream url>` (and its status callback) our TwiML gives
 * for a webhook request, and the voice webhook itself (an outbound call's, a number's), each with
 * the bridge's mount (BridgeMount).
 */
@Injectable()
export class StreamUrlService {
  private readonly log = new Logger('Security');
  /** Base URLs already warned about: one warning per address, not one per call. */
  private readonly warned = new Set<string>();

  constructor(
    private readonly signatures: TwilioSignatureService,
    private readonly mount: BridgeMount,
  ) {}

  forRequest(req: IncomingMessage): string {
    const url = this.streamUrl(this.signatures.baseUrlOf(req));
    if (isInsecureStreamUrl(url) && !isLocalEnvironment() && !this.warned.has(url)) {
      this.warned.add(url);
      this.log.warn(
        `Stream URL ${url} is ws://: Twilio connects only to wss:// (error 31922), so calls will fail. ` +
          'Serve the bridge over TLS and set PUBLIC_URL=https://..., or TRUST_PROXY=true behind a TLS proxy.',
      );
    }
    return url;
  }

  /** Where Twilio reports the stream's own errors (`<Stream statusCallback>`), signed like the webhook. */
  statusCallbackFor(req: IncomingMessage): string {
    return streamStatusUrl(this.signatures.baseUrlOf(req), this.mount.path);
  }

  /** The media stream (`/media-stream`) under `baseUrl` (PUBLIC_URL, or the request's base). */
  streamUrl(baseUrl: string): string {
    return mediaStreamUrl(baseUrl, this.mount.path);
  }

  /** The voice webhook (`/api/twiml`) under `baseUrl` (PUBLIC_URL, or the request's base). */
  webhookUrl(baseUrl: string): string {
    return twimlUrl(baseUrl, this.mount.path);
  }
}
