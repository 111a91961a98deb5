import {
  ForbiddenException,
  Injectable,
  Logger,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { TwilioSignatureService } from './twilio-signature.service.js';

/** Refuses (403) a webhook request whose `X-Twilio-Signature` is missing or wrong. */
@Injectable()
export class TwilioSignatureGuard implements CanActivate {
  private readonly log = new Logger('TwilioSignature');

  constructor(private readonly signatures: TwilioSignatureService) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const verdict = this.signatures.verifyWebhook(req);
    if (verdict === 'valid' || verdict === 'disabled') return true;
    this.log.warn(
      `refused ${req.method} ${req.path} from ${req.ip}: ${verdict} X-Twilio-Signature ` +
        `(checked against ${this.signatures.baseUrlOf(req)}${req.path})`,
    );
    throw new ForbiddenException(`${verdict} X-Twilio-Signature`);
  }
}
