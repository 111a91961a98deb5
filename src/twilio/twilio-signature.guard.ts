import {
  ForbiddenException,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { refusedLine } from '../http/client-address.js';
import { RefusalLog } from '../logging/refusal-log.js';
import { serverConfig, type ServerConfig } from '../config/config.namespaces.js';
import { TwilioSignatureService } from './twilio-signature.service.js';

/** Refuses (403) a webhook request whose `X-Twilio-Signature` is missing or wrong. */
@Injectable()
export class TwilioSignatureGuard implements CanActivate {
  private readonly refusals = new RefusalLog('TwilioSignature');

  constructor(
    private readonly signatures: TwilioSignatureService,
    @Inject(serverConfig.KEY) private readonly server: ServerConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const verdict = this.signatures.verifyWebhook(req);
    if (verdict === 'valid' || verdict === 'disabled') return true;
    const checked = `checked against ${this.signatures.baseUrlOf(req)}${req.path}`;
    this.refusals.warn(
      refusedLine(req, this.server.trustProxy, `${verdict} X-Twilio-Signature (${checked})`),
    );
    throw new ForbiddenException(`${verdict} X-Twilio-Signature`);
  }
}
