import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import twilio from 'twilio';
import { serverConfig, twilioConfig } from '../config/config.namespaces.js';
import type { ServerConfig, TwilioConfig } from '../config/config.namespaces.js';
import { BridgeMount } from '../http/bridge-mount.service.js';
import { InvalidHostError, mediaStreamUrl, publicBaseUrl } from './public-url.js';

export type SignatureVerdict = 'valid' | 'missing' | 'invalid' | 'disabled';

/**
 * Checks `X-Twilio-Signature` with the `twilio` package, for the TwiML webhook and for the media
 * WebSocket handshake: one implementation, one idea of what the public URL is.
 */
@Injectable()
export class TwilioSignatureService {
  constructor(
    @Inject(serverConfig.KEY) private readonly server: ServerConfig,
    @Inject(twilioConfig.KEY) private readonly twilioCfg: TwilioConfig,
    private readonly mount: BridgeMount,
  ) {}

  get enabled(): boolean {
    return this.twilioCfg.validateSignatures;
  }

  /**
   * The public base URL for this request (PUBLIC_URL, or derived from its headers); a Host that
   * cannot name a URL is a 400.
   */
  baseUrlOf(req: IncomingMessage): string {
    try {
      return publicBaseUrl(req, this.server);
    } catch (error) {
      if (error instanceof InvalidHostError) throw new BadRequestException(error.message);
      throw error;
    }
  }

  /**
   * A webhook request: Twilio signs the full URL it requested (path and query) plus, for form
   * POSTs, every body field.
   */
  verifyWebhook(req: IncomingMessage & { originalUrl?: string; body?: unknown }): SignatureVerdict {
    const params =
      req.method === 'POST' && isStringRecord(req.body) ? req.body : ({} as Record<string, string>);
    const url = this.baseUrlOf(req) + (req.originalUrl ?? req.url ?? '/');
    return this.verify(req, url, params);
  }

  /**
   * The WebSocket upgrade: Twilio signs the `<Stream>` URL our TwiML gave it, `wss://host/path`
   * (under the application's mount) with no parameters (it carries no query string).
   */
  verifyHandshake(req: IncomingMessage): SignatureVerdict {
    return this.verify(req, mediaStreamUrl(this.baseUrlOf(req), this.mount.path), {});
  }

  private verify(
    req: IncomingMessage,
    url: string,
    params: Record<string, string>,
  ): SignatureVerdict {
    if (!this.enabled) return 'disabled';
    const header = req.headers['x-twilio-signature'];
    const signature = Array.isArray(header) ? header[0] : header;
    if (!signature) return 'missing';
    const authToken = this.twilioCfg.authToken?.reveal() ?? '';
    try {
      return twilio.validateRequest(authToken, signature, url, params) ? 'valid' : 'invalid';
    } catch {
      // A request target no URL can be built from (an absolute-form `GET http://x/...`, which
      // Twilio never sends): no signature can match it, so it is refused like a wrong one.
      return 'invalid';
    }
  }
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
