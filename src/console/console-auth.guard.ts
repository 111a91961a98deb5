import {
  Inject,
  Injectable,
  Logger,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { requireApiToken } from '../http/api-token.guard.js';
import { bearerTokenMatches } from '../http/bearer-token.js';
import { refusedLine } from '../http/client-address.js';
import { callControlConfig, serverConfig } from '../config/config.namespaces.js';
import type { CallControlConfig, ServerConfig } from '../config/config.namespaces.js';
import { SESSION_COOKIE } from './console.constants.js';
import { ConsoleSessions, cookieValue } from './console-sessions.service.js';

/** The console exists only with an API_TOKEN (404 otherwise): its page, assets and login. */
@Injectable()
export class ConsoleEnabledGuard implements CanActivate {
  constructor(@Inject(callControlConfig.KEY) private readonly cfg: CallControlConfig) {}

  canActivate(): boolean {
    requireApiToken(this.cfg);
    return true;
  }
}

/**
 * The console's data routes: a valid session cookie or `Authorization: Bearer ${API_TOKEN}`
 * (so scripts can read them too); 401 otherwise.
 */
@Injectable()
export class ConsoleAuthGuard implements CanActivate {
  private readonly log = new Logger('ConsoleAuth');

  constructor(
    @Inject(callControlConfig.KEY) private readonly cfg: CallControlConfig,
    private readonly sessions: ConsoleSessions,
    @Inject(serverConfig.KEY) private readonly server: ServerConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const token = requireApiToken(this.cfg);
    const req = context.switchToHttp().getRequest<Request>();
    const session = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (this.sessions.isValid(session) || bearerTokenMatches(req.headers.authorization, token)) {
      return true;
    }
    this.log.debug(refusedLine(req, this.server.trustProxy, 'no console session'));
    throw new UnauthorizedException('log in to the console first');
  }
}
