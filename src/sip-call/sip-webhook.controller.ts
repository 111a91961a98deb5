import {
  BadRequestException,
  Controller,
  HttpCode,
  HttpException,
  Inject,
  Logger,
  NotFoundException,
  Post,
  Req,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { Request } from 'express';
import { CallRegistry } from '../call/call-registry.service.js';
import { clientAddress } from '../http/client-address.js';
import { RefusalLog } from '../logging/refusal-log.js';
import { serverConfig, type ServerConfig } from '../config/config.namespaces.js';
import { SipCallsService } from './sip-calls.service.js';
import { parseWebhookEvent } from './sip-webhook.event.js';
import { WebhookDeliveries } from './webhook-deliveries.js';
import { WebhookVerifier } from './webhook-verifier.js';

const header = (req: Request, name: string): string | undefined => {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
};

/**
 * OpenAI's project webhook (`POST /api/openai/webhook`). Everything that can refuse a delivery
 * happens before the 200: signature and timestamp, the event's shape and its SIP headers, the
 * drain. A refused delivery never leads to a calls-API request. The call itself (admission,
 * accept, sideband) runs after the answer: OpenAI wants webhooks answered quickly.
 */
@Controller('api/openai')
export class SipWebhookController {
  private readonly log = new Logger('SipWebhook');
  private readonly refusals = new RefusalLog('SipWebhook');

  constructor(
    /** Null without OPENAI_WEBHOOK_SECRET: the SIP transport is off. */
    @Inject(WebhookVerifier) private readonly verifier: WebhookVerifier | null,
    private readonly deliveries: WebhookDeliveries,
    private readonly registry: CallRegistry,
    private readonly sipCalls: SipCallsService,
    @Inject(serverConfig.KEY) private readonly server: ServerConfig,
  ) {}

  @Post('webhook')
  @HttpCode(200)
  @ApiExcludeEndpoint()
  async receive(@Req() req: Request): Promise<{ received: true }> {
    // The transport is off: the same answer as for a route that does not exist.
    if (!this.verifier) throw new NotFoundException(`Cannot POST ${req.originalUrl}`);
    const body: unknown = req.body;
    if (!Buffer.isBuffer(body)) throw new BadRequestException('the webhook has no body');
    const verdict = await this.verifier.verify(
      {
        id: header(req, 'webhook-id'),
        timestamp: header(req, 'webhook-timestamp'),
        signature: header(req, 'webhook-signature'),
      },
      body,
    );
    if (!verdict.ok) {
      const from = clientAddress(req, this.server.trustProxy);
      this.refusals.warn(`refused webhook from ${from}: ${verdict.reason}`);
      throw new HttpException(
        { statusCode: verdict.status, message: `webhook refused: ${verdict.reason}` },
        verdict.status,
      );
    }
    const event = parseWebhookEvent(body);
    if (event.kind === 'ignored') {
      this.log.debug(`ignored webhook event ${event.type.slice(0, 80)}`);
      return { received: true };
    }
    if (event.kind === 'invalid') {
      this.log.warn(`refused webhook ${verdict.id}: ${event.reason}`);
      throw new BadRequestException(`invalid realtime.call.incoming: ${event.reason}`);
    }
    // Answered before the delivery is remembered, so OpenAI's retry may reach another instance.
    if (this.registry.isDraining) throw new ServiceUnavailableException('shutting down');
    if (!(await this.deliveries.firstDelivery(verdict.id))) {
      this.log.log(`webhook ${verdict.id} delivered again; already handled`);
      return { received: true };
    }
    void this.sipCalls.admit(event.call);
    return { received: true };
  }
}
