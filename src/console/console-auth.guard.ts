import {
  Inject,
  Injectable,
  Logger,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import type { IncomingHttpHeaders } from 'node:http';
import type { Secret } from '../config/secret.js';
import { requireApiToken } from '../http/api-token.guard.js';
import { bearerTokenMatches } from '../http/bearer-token.js';
import { refusedLine } from '../http/client-address.js';
import { callControlConfig, serverConfig } from '../config/config.namespaces.js';
import type { CallControlConfig, ServerConfig } from '../config/config.namespaces.js';
import { ConsoleSessions } from './console-sessions.service.js';

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
 * Who a console request comes from: its session (`console:<digest>`, see ConsoleSessions.label)
 * or `api` for `Authorization: Bearer ${API_TOKEN}`; undefined for nobody. The one rule of the
 * console's data routes and of its WebSocket upgrade (listen-in).
 */
export function consoleRequester(
  headers: IncomingHttpHeaders,
  sessions: ConsoleSessions,
  token: Secret,
): string | undefined {
  const session = sessions.sessionIn(headers.cookie);
  if (session !== undefined) return sessions.label(session);
  return bearerTokenMatches(headers.authorization, token) ? 'api' : undefined;
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
    if (consoleRequester(req.headers, this.sessions, token) !== undefined) return true;
    this.log.debug(refusedLine(req, this.server.trustProxy, 'no console session'));
    throw new UnauthorizedException('log in to the console first');
  }
}
