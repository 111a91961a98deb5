import {
  Inject,
  Injectable,
  NotFoundException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { bearerToken, bearerTokenMatches } from './bearer-token.js';
import { clientAddress } from './client-address.js';
import { RefusalLog } from '../logging/refusal-log.js';
import { callControlConfig, serverConfig } from '../config/config.namespaces.js';
import type { CallControlConfig, ServerConfig } from '../config/config.namespaces.js';

/**
 * The call-control API needs `Authorization: Bearer ${API_TOKEN}`. Without an API_TOKEN the
 * routes do not exist (404), so a bridge is never controllable by accident.
 */
@Injectable()
export class ApiTokenGuard implements CanActivate {
  private readonly refusals = new RefusalLog('ApiAuth');

  constructor(
    @Inject(callControlConfig.KEY) private readonly cfg: CallControlConfig,
    @Inject(serverConfig.KEY) private readonly server: ServerConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const token = this.cfg.apiToken;
    if (!token) throw new NotFoundException();
    const req = context.switchToHttp().getRequest<Request>();
    if (bearerTokenMatches(req.headers.authorization, token)) return true;
    const given = bearerToken(req.headers.authorization);
    const from = clientAddress(req, this.server.trustProxy);
    this.refusals.warn(
      `refused ${req.method} ${req.path} from ${from}: ${given ? 'wrong' : 'missing'} API token`,
    );
    throw new UnauthorizedException();
  }
}
