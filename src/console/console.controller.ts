import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  HttpException,
  HttpStatus,
  Inject,
  Logger,
  NotFoundException,
  Param,
  Post,
  Req,
  Res,
  ServiceUnavailableException,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { tokenMatches } from '../http/bearer-token.js';
import { BridgeMount } from '../http/bridge-mount.service.js';
import { clientAddress } from '../http/client-address.js';
import { RefusalLog } from '../logging/refusal-log.js';
import { callControlConfig, serverConfig } from '../config/config.namespaces.js';
import type { CallControlConfig, ServerConfig } from '../config/config.namespaces.js';
import { consoleOrigin } from './console-origin.js';
import { ConsoleEnabledGuard } from './console-auth.guard.js';
import { ConsoleAssets, type ConsoleAsset } from './console-assets.service.js';
import { ConsoleSessions } from './console-sessions.service.js';
import { SESSION_COOKIE, SESSION_TTL_S } from './console.constants.js';
import { LoginThrottle } from './login-throttle.service.js';
import { requireJson } from './require-json.js';

const loginSchema = z.strictObject({ token: z.string().min(1).max(1000) });

/** The page, its static files, and logging in and out. */
@ApiExcludeController()
@Controller('console')
@UseGuards(ConsoleEnabledGuard)
export class ConsoleController {
  private readonly log = new Logger('Console');
  private readonly refusals = new RefusalLog('Console');

  constructor(
    private readonly assets: ConsoleAssets,
    private readonly sessions: ConsoleSessions,
    private readonly throttle: LoginThrottle,
    @Inject(callControlConfig.KEY) private readonly cfg: CallControlConfig,
    @Inject(serverConfig.KEY) private readonly server: ServerConfig,
    private readonly mount: BridgeMount,
  ) {}

  @Get()
  page(@Req() req: Request, @Res() res: Response): void {
    this.serve(this.assets.page(), req, res);
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Req() req: Request, @Res() res: Response): void {
    this.serve(this.assets.get(name), req, res);
  }

  @Get('assets/vendor/:name')
  vendor(@Param('name') name: string, @Req() req: Request, @Res() res: Response): void {
    this.serve(this.assets.get(`vendor/${name}`), req, res);
  }

  /**
   * Whether this browser holds a console session. Answered 200 either way, so the page can ask
   * before logging in without a failed request in its console.
   */
  @Get('session')
  async session(@Req() req: Request): Promise<{ authenticated: boolean }> {
    return { authenticated: (await this.sessions.sessionIn(req.headers.cookie)) !== undefined };
  }

  /**
   * Exchanges the API token for a session cookie. Wrong tokens are throttled per client address
   * (429 past LOGIN_MAX_FAILURES), the right token apart (LoginThrottle): others' failures, from
   * any address, never lock it out.
   */
  @Post('login')
  @HttpCode(204)
  async login(
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    requireJson(req);
    const parsed = loginSchema.safeParse(body);
    if (!parsed.success) throw new BadRequestException('expected {"token": "..."}');
    const address = clientAddress(req, this.server.trustProxy);
    if (!tokenMatches(parsed.data.token, this.cfg.apiToken!)) {
      const waitS = this.throttle.failureBlockedFor(address);
      this.throttle.failed(address);
      this.refusals.warn(`console login refused from ${address}: wrong token`);
      if (waitS > 0) tooMany(res, waitS, 'failed logins');
      throw new UnauthorizedException('wrong token');
    }
    const waitS = this.throttle.successBlockedFor(address);
    if (waitS > 0) {
      this.refusals.warn(`console login refused from ${address}: too many logins`);
      tooMany(res, waitS, 'logins');
    }
    this.throttle.succeeded(address);
    const id = await this.sessions.create();
    if (id === undefined) {
      this.refusals.warn(`console login from ${address} refused: sessions cannot be stored now`);
      throw new ServiceUnavailableException(
        'console sessions cannot be stored now (the cluster store, Redis, does not answer)',
      );
    }
    res.setHeader('set-cookie', this.sessionCookie(id, SESSION_TTL_S, req));
    this.log.log(`console login from ${address}`);
  }

  @Post('logout')
  @HttpCode(204)
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    // Every session cookie sent is this browser's: all of them end, live or not.
    await this.sessions.revoke(req.headers.cookie);
    res.setHeader('set-cookie', this.sessionCookie('', 0, req));
  }

  private serve(asset: ConsoleAsset | undefined, req: Request, res: Response): void {
    if (!asset) throw new NotFoundException();
    res.setHeader('content-type', asset.contentType);
    res.setHeader('etag', asset.etag);
    // Revalidated every time (cheap: 304 by ETag), so a new build is picked up at once.
    res.setHeader('cache-control', 'no-cache');
    if (req.headers['if-none-match'] === asset.etag) {
      res.status(304).end();
      return;
    }
    res.status(200).end(asset.body);
  }

  /**
   * Path={mount}/console: sent to the page, its data routes and its listen socket, wherever the
   * application mounted the bridge, and nowhere else on this origin.
   */
  private sessionCookie(value: string, maxAgeS: number, req: Request): string {
    return [
      `${SESSION_COOKIE}=${value}`,
      `Path=${this.mount.path}/console`,
      `Max-Age=${maxAgeS}`,
      'HttpOnly',
      'SameSite=Strict',
      ...(this.isHttps(req) ? ['Secure'] : []),
    ].join('; ');
  }

  /**
   * Secure cookies only when the page was reached over https (a browser drops them on plain
   * http, even on loopback): TLS here, a trusted proxy's X-Forwarded-Proto, or the https
   * PUBLIC_URL's host.
   */
  private isHttps(req: Request): boolean {
    // Headers that name no URL (never a browser's) get the plain cookie, not a 500.
    if (consoleOrigin(req, { trustProxy: this.server.trustProxy })?.startsWith('https://')) {
      return true;
    }
    const publicUrl = this.server.publicUrl;
    return Boolean(
      publicUrl?.startsWith('https://') && new URL(publicUrl).host === req.headers.host,
    );
  }
}

function tooMany(res: Response, waitS: number, what: string): never {
  res.setHeader('retry-after', String(waitS));
  throw new HttpException(
    `too many ${what}: try again in ${waitS} s`,
    HttpStatus.TOO_MANY_REQUESTS,
  );
}
