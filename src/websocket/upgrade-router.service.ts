import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { BridgeMount } from '../http/bridge-mount.service.js';
import { matchRoute, parseRoute, type RouteParams, type RoutePattern } from './upgrade-route.js';

/**
 * How long the bridge may take to answer an upgrade on one of its own paths: accepted (101) or
 * refused (an HTTP status on the socket). engine.io (socket.io) ends any upgrade it does not
 * serve once this long has passed with nothing written: the router keeps the bridge's upgrades
 * from it, but a verifier that took longer would also hold a stranger's socket open for nothing.
 */
export const UPGRADE_ANSWER_DEADLINE_MS = 1000;

export type UpgradeVerdict = { ok: true } | { ok: false; status: number; message: string };

/** A WebSocket route of the bridge's, relative to where the application mounted it. */
export interface UpgradeRouteOptions {
  /** `/media-stream`, or with parameters: `/api/calls/:callSid/listen`. */
  path: string;
  /** Largest message a client may send (ws closes the socket with 1009 beyond it). */
  maxPayload: number;
  /**
   * Before the WebSocket exists: accept, or refuse with an HTTP status. May be async; past
   * UPGRADE_ANSWER_DEADLINE_MS the router answers 503 itself.
   */
  verify(req: IncomingMessage, params: RouteParams): UpgradeVerdict | Promise<UpgradeVerdict>;
  /** The accepted socket, with the request it came from. */
  connect(socket: WebSocket, req: IncomingMessage, params: RouteParams): void;
}

interface Route {
  pattern: RoutePattern;
  server: WebSocketServer;
}

type Emit = Server['emit'];
type UpgradeArgs = [IncomingMessage, Duplex, Buffer];

const TIMED_OUT: UpgradeVerdict = {
  ok: false,
  status: 503,
  message: 'Service Unavailable',
};

/**
 * The one place the HTTP server's WebSocket upgrades are dispatched, so that the bridge can live
 * in any application beside the WebSocket adapter it chose. Measured with Nest 12: the ws
 * adapter (`@nestjs/platform-ws`) destroys every upgrade whose path it does not serve, within
 * milliseconds; socket.io's engine.io ends one after 1 s; both attach their `upgrade` listener
 * while `init()` registers gateways, before any module's `onModuleInit`, and a custom adapter
 * may attach later still (at `listen`). So listening beside them cannot work, whichever order.
 *
 * The router therefore takes the server's `emit` for the `upgrade` event: an upgrade on one of
 * the bridge's paths goes to its route and to nobody else; every other upgrade is emitted as
 * before, to every listener, whenever it was added. One listener of its own keeps Node treating
 * upgrades as upgrades (with none, Node answers them as plain requests), and answers 404 to one
 * that no other listener is there to take.
 */
@Injectable()
export class UpgradeRouter implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger(UpgradeRouter.name);
  private readonly routes: Route[] = [];
  private readonly params = new WeakMap<IncomingMessage, RouteParams>();
  private server?: Server;
  /** The server's own `emit` before the router's, if it had one (usually it inherits it). */
  private ownEmit?: PropertyDescriptor;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly mount: BridgeMount,
  ) {}

  onModuleInit(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    // An application context without HTTP (a worker, a test of a module) has no upgrades.
    if (!server) return;
    this.server = server;
    this.ownEmit = Object.getOwnPropertyDescriptor(server, 'emit');
    const emit = server.emit.bind(server) as (
      event: string | symbol,
      ...args: unknown[]
    ) => boolean;
    server.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === 'upgrade') {
        const [req, socket, head] = args as UpgradeArgs;
        if (this.dispatch(req, socket, head)) return true;
      }
      return emit(event, ...args);
    }) as Emit;
    server.on('upgrade', this.unclaimed);
  }

  /** Serves `options.path` (under the bridge's mount) with a `ws` server of its own. */
  route(options: UpgradeRouteOptions): WebSocketServer {
    const server = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload,
      // Compression costs CPU and memory per socket for audio that does not compress.
      perMessageDeflate: false,
      verifyClient: (info: { req: IncomingMessage }, done) => {
        void this.verify(options, info.req).then((verdict) =>
          verdict.ok ? done(true) : done(false, verdict.status, verdict.message),
        );
      },
    });
    server.on('connection', (socket: WebSocket, req: IncomingMessage) =>
      options.connect(socket, req, this.params.get(req) ?? {}),
    );
    // A failed socket is that socket's business; without a listener it would crash the process.
    server.on('error', (error) => this.log.warn(`WebSocket server error: ${error.message}`));
    this.routes.push({ pattern: parseRoute(options.path), server });
    return server;
  }

  onApplicationShutdown(): void {
    const server = this.server;
    if (server) {
      if (this.ownEmit) Object.defineProperty(server, 'emit', this.ownEmit);
      else Reflect.deleteProperty(server, 'emit');
      server.off('upgrade', this.unclaimed);
      this.server = undefined;
    }
    for (const route of this.routes) {
      for (const socket of route.server.clients) socket.terminate();
      route.server.close();
    }
  }

  /** True when the upgrade is on one of the bridge's paths (and is now the route's alone). */
  private dispatch(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = pathOf(req);
    const mount = this.mount.path;
    if (path === undefined || !path.startsWith(mount)) return false;
    const inner = path.slice(mount.length);
    for (const route of this.routes) {
      const params = matchRoute(route.pattern, inner);
      if (!params) continue;
      this.params.set(req, params);
      // ws checks the handshake's headers, then verifyClient, then answers 101 or the refusal.
      route.server.handleUpgrade(req, socket, head, (ws) =>
        route.server.emit('connection', ws, req),
      );
      return true;
    }
    return false;
  }

  private async verify(
    options: UpgradeRouteOptions,
    req: IncomingMessage,
  ): Promise<UpgradeVerdict> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<UpgradeVerdict>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), UPGRADE_ANSWER_DEADLINE_MS);
    });
    try {
      return await Promise.race([
        Promise.resolve().then(() => options.verify(req, this.params.get(req) ?? {})),
        deadline,
      ]);
    } catch (error) {
      this.log.error(`upgrade verification failed: ${(error as Error).message}`);
      return { ok: false, status: 500, message: 'Internal Server Error' };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs for every upgrade not on the bridge's paths; answers only one nobody else will. */
  private readonly unclaimed = (_req: IncomingMessage, socket: Duplex): void => {
    if ((this.server?.listenerCount('upgrade') ?? 0) > 1) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  };
}

/** The request's path (no query), or undefined when its target cannot be parsed. */
function pathOf(req: IncomingMessage): string | undefined {
  const target = req.url ?? '/';
  const end = target.indexOf('?');
  const path = end === -1 ? target : target.slice(0, end);
  return path.startsWith('/') ? path : undefined;
}
