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

/**
 * Why an `Authorization` header does not open the API (`missing API token`, `wrong API token`),
 * or undefined when it carries the token: the one rule of the HTTP guard and of the WebSocket
 * upgrades (listen-in).
 */
export function apiTokenRefusal(
  authorization: string | undefined,
  token: Secret,
): string | undefined {
  if (bearerTokenMatches(authorization, token)) return undefined;
  return `${bearerToken(authorization) ? 'wrong' : 'missing'} API token`;
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
    const refusal = apiTokenRefusal(req.headers.authorization, token);
    if (refusal === undefined) return true;
    this.refusals.warn(refusedLine(req, this.server.trustProxy, refusal));
    throw new UnauthorizedException();
  }
}
