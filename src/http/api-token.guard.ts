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
import { refusedLine } from './client-address.js';
import { RefusalLog } from '../logging/refusal-log.js';
import { callControlConfig, serverConfig } from '../config/config.namespaces.js';
import type { CallControlConfig, ServerConfig } from '../config/config.namespaces.js';
import type { Secret } from '../config/secret.js';

/**
 * The API_TOKEN every authenticated route (the call-control API, live calls, the console) is
 * opened by. Without one the route does not exist (404), so a bridge is never controllable by
 * accident.
 */
export function requireApiToken(cfg: CallControlConfig): Secret {
  if (!cfg.apiToken) throw new NotFoundException();
  return cfg.apiToken;
}

/** The call-control API needs `Authorization: Bearer ${API_TOKEN}` (see requireApiToken). */
@Injectable()
export class ApiTokenGuard implements CanActivate {
  private readonly refusals = new RefusalLog('ApiAuth');

  constructor(
    @Inject(callControlConfig.KEY) private readonly cfg: CallControlConfig,
    @Inject(serverConfig.KEY) private readonly server: ServerConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const token = requireApiToken(this.cfg);
    const req = context.switchToHttp().getRequest<Request>();
    if (bearerTokenMatches(req.headers.authorization, token)) return true;
    const given = bearerToken(req.headers.authorization) ? 'wrong' : 'missing';
    this.refusals.warn(refusedLine(req, this.server.trustProxy, `${given} API token`));
    throw new UnauthorizedException();
  }
}
