import {
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { bearerTokenMatches } from '../http/bearer-token.js';
import { clientAddress } from '../http/client-address.js';
import { callControlConfig, serverConfig } from '../config/config.namespaces.js';
import type { CallControlConfig, ServerConfig } from '../config/config.namespaces.js';
import { SESSION_COOKIE } from './console.constants.js';
import { ConsoleSessions, cookieValue } from './console-sessions.service.js';

/** The console exists only with an API_TOKEN (404 otherwise): its page, assets and login. */
@Injectable()
export class ConsoleEnabledGuard implements CanActivate {
  constructor(@Inject(callControlConfig.KEY) private readonly cfg: CallControlConfig) {}

  canActivate(): boolean {
    if (!this.cfg.apiToken) throw new NotFoundException();
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
    const token = this.cfg.apiToken;
    if (!token) throw new NotFoundException();
    const req = context.switchToHttp().getRequest<Request>();
    if (this.sessions.isValid(cookieValue(req.headers.cookie, SESSION_COOKIE))) return true;
    if (req.headers.authorization && bearerTokenMatches(req.headers.authorization, token)) {
      return true;
    }
    const from = clientAddress(req, this.server.trustProxy);
    this.log.debug(`refused ${req.method} ${req.path} from ${from}: no console session`);
    throw new UnauthorizedException('log in to the console first');
  }
}
