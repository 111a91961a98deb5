import { BadRequestException, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  openaiConfig,
  serverConfig,
  type OpenAIConfig,
  type ServerConfig,
} from '../config/config.namespaces.js';
import type { ResolvedSurfaces } from '../config/bridge-options.js';
import { BRIDGE_SURFACES } from '../config/config.module.js';
import { SIP_WEBHOOK_PATH } from '../sip-call/sip.constants.js';
import { sipWebhookBodyReader } from '../sip-call/sip-webhook-body.js';
import { STREAM_STATUS_PATH, TWIML_PATH } from '../twilio/public-url.js';
import { matchRoute, parseRoute, type RoutePattern } from '../websocket/upgrade-route.js';
import { bodyBounds } from './body-bounds.middleware.js';
import { hasMediaType, parseForm, readBoundedBody, type BodyRequest } from './body-reader.js';
import { BridgeMount } from './bridge-mount.service.js';
import { clientAddress } from './client-address.js';
import { HTTP_TIMEOUT_CHECK_INTERVAL_MS, MAX_HTTP_BODY_BYTES } from './http-bounds.js';

type Next = (error?: unknown) => void;
type BodyKind = 'form' | 'json' | 'raw';

/** The bridge's routes that take a body, relative to its mount, and how each body is read. */
const BODY_ROUTES: ReadonlyArray<{ path: string; kind: BodyKind }> = [
  // Twilio posts its webhooks form-encoded, and signs every field.
  { path: TWIML_PATH, kind: 'form' },
  { path: STREAM_STATUS_PATH, kind: 'form' },
  // OpenAI signs the bytes as sent.
  { path: SIP_WEBHOOK_PATH, kind: 'raw' },
  { path: '/api/calls', kind: 'json' },
  { path: '/api/calls/:callSid/hangup', kind: 'json' },
  { path: '/api/calls/:callSid/transfer', kind: 'json' },
  { path: '/console/login', kind: 'json' },
  { path: '/console/logout', kind: 'json' },
  { path: '/console/api/numbers/:sid/point-here', kind: 'json' },
  { path: '/console/api/calls/:callSid/hangup', kind: 'json' },
  { path: '/console/api/calls/:callSid/transfer', kind: 'json' },
];

/**
 * What the bridge needs of the application's HTTP server, done from inside the module (no
 * setup call after `NestFactory.create`):
 * - its POST routes' bodies, read by the bridge itself, ahead of the application's parsers
 *   (installed as the module is built, before `init()` adds Nest's), and only on those routes:
 *   the early 413 and connection closing of bodyBounds, forms for Twilio, the raw bytes for the
 *   SIP webhook's signature, JSON for the API; the application's own routes keep its parsers;
 * - the server's request and header timeouts (HTTP_REQUEST_TIMEOUT_MS, HTTP_HEADERS_TIMEOUT_MS),
 *   which protect every route on the port, the bridge's webhooks included.
 */
@Injectable()
export class BridgeHttpSetup implements OnModuleInit {
  private readonly routes: ReadonlyArray<{ pattern: RoutePattern; kind: BodyKind }>;
  private readonly bounds: ReturnType<typeof bodyBounds>;
  private readonly sipReader = sipWebhookBodyReader();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly mount: BridgeMount,
    @Inject(serverConfig.KEY) private readonly server: ServerConfig,
    @Inject(openaiConfig.KEY) private readonly openai: OpenAIConfig,
    @Inject(BRIDGE_SURFACES) private readonly surfaces: ResolvedSurfaces,
  ) {
    this.routes = BODY_ROUTES.map((route) => ({ ...route, pattern: parseRoute(route.path) }));
    this.bounds = bodyBounds(MAX_HTTP_BODY_BYTES, (req) => clientAddress(req, server.trustProxy));
    // Now, while the application is being built: its body parsers are added at init().
    adapterHost.httpAdapter?.use((req: BodyRequest, res: ServerResponse, next: Next) =>
      this.readBody(req, res, next),
    );
  }

  onModuleInit(): void {
    // The server exists once the application does (after the modules are built).
    const http = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!http) return;
    http.requestTimeout = this.server.requestTimeoutMs;
    http.headersTimeout = this.server.headersTimeoutMs;
    // Read when the server starts listening, so setting it before listen() takes effect.
    (http as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
      HTTP_TIMEOUT_CHECK_INTERVAL_MS;
  }

  private readBody(req: BodyRequest, res: ServerResponse, next: Next): void {
    const kind = req.method === 'POST' ? this.kindOf(req) : undefined;
    if (!kind) return next();
    this.bounds(req, res, () => {
      if (res.writableEnded) return;
      if (kind === 'raw') {
        // Without OPENAI_WEBHOOK_SECRET, or with the surface off, there is no route to read for.
        if (!this.openai.webhookSecret || !this.surfaces.sipWebhook) return next();
        return this.sipReader(req, res, next);
      }
      const type = kind === 'form' ? 'application/x-www-form-urlencoded' : 'application/json';
      if (!hasMediaType(req, type)) return next();
      readBoundedBody(req, res, next, MAX_HTTP_BODY_BYTES, (bytes) => {
        req.body = kind === 'form' ? parseForm(bytes) : parseJson(bytes);
      });
    });
  }

  private kindOf(req: IncomingMessage): BodyKind | undefined {
    const target = req.url ?? '/';
    const query = target.indexOf('?');
    const path = query === -1 ? target : target.slice(0, query);
    const mount = this.mount.path;
    if (!path.startsWith(mount)) return undefined;
    const inner = path.slice(mount.length);
    return this.routes.find((route) => matchRoute(route.pattern, inner))?.kind;
  }
}

/** An empty body is no body; anything else must be JSON (400 through Nest's error handling). */
function parseJson(bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw new BadRequestException('the request body is not valid JSON');
  }
}
