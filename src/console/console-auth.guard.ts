import {
  Inject,
  Injectable,
  Logger,
  ServiceUnavailableException,
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

/** A console session as its request was let in with: what it opens is tied to it. */
export interface RequestSession {
  key: string;
  expiresAt: number;
}

export type ConsoleRequester =
  | { ok: true; operator: string; session?: RequestSession }
  /** `unavailable`: a session cookie that could not be checked (the store is down). */
  | { ok: false; unavailable: boolean };

/** The refusal while sessions cannot be checked: nobody is let in on a cookie then. */
export const SESSIONS_UNAVAILABLE =
  'console sessions cannot be checked now (the cluster store, Redis, does not answer); the API token still works';

/**
 * Who a console request comes from: its session (`console:<digest>`, see ConsoleSessions.label)
 * or `api` for `Authorization: Bearer ${API_TOKEN}`; refused otherwise. The one rule of the
 * console's data routes and of its WebSocket upgrade (listen-in).
 */
export async function consoleRequester(
  headers: IncomingHttpHeaders,
  sessions: ConsoleSessions,
  token: Secret,
): Promise<ConsoleRequester> {
  const found = await sessions.find(headers.cookie);
  if (found.state === 'live') {
    const { key, expiresAt } = found;
    return { ok: true, operator: sessions.label(key), session: { key, expiresAt } };
  }
  if (bearerTokenMatches(headers.authorization, token)) return { ok: true, operator: 'api' };
  return { ok: false, unavailable: found.state === 'unavailable' };
}

const requestSessions = new WeakMap<object, RequestSession>();

/** The session a request was let in with by ConsoleAuthGuard (none for the Bearer token). */
export function sessionOfRequest(req: Request): RequestSession | undefined {
  return requestSessions.get(req);
}

/**
 * The console's data routes: a valid session cookie or `Authorization: Bearer ${API_TOKEN}`
 * (so scripts can read them too); 401 otherwise, 503 when a session cookie cannot be checked.
 */
@Injectable()
export class ConsoleAuthGuard implements CanActivate {
  private readonly log = new Logger('ConsoleAuth');

  constructor(
    @Inject(callControlConfig.KEY) private readonly cfg: CallControlConfig,
    private readonly sessions: ConsoleSessions,
    @Inject(serverConfig.KEY) private readonly server: ServerConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const token = requireApiToken(this.cfg);
    const req = context.switchToHttp().getRequest<Request>();
    const requester = await consoleRequester(req.headers, this.sessions, token);
    if (requester.ok) {
      if (requester.session) requestSessions.set(req, requester.session);
      return true;
    }
    if (requester.unavailable) {
      this.log.debug(refusedLine(req, this.server.trustProxy, 'console sessions unavailable'));
      throw new ServiceUnavailableException(SESSIONS_UNAVAILABLE);
    }
    this.log.debug(refusedLine(req, this.server.trustProxy, 'no console session'));
    throw new UnauthorizedException('log in to the console first');
  }
}
