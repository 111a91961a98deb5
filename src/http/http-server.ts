import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import { clientAddress } from './client-address.js';
import type { ServerConfig } from '../config/config.namespaces.js';
import { bodyBounds } from './body-bounds.middleware.js';
import { HTTP_TIMEOUT_CHECK_INTERVAL_MS, MAX_HTTP_BODY_BYTES } from './http-bounds.js';

/**
 * The HTTP server's own bounds, set before it listens: how long a request may take to arrive
 * (a webhook is a few KiB; a client that trickles it is cut with 408), the early 413 and the
 * closing of refused connections (bodyBounds), and Express's notion of the client address
 * (`trust proxy`: one hop with TRUST_PROXY, as clientAddress reads it).
 */
export function useHttpBounds(app: INestApplication, server: ServerConfig): void {
  const http = app.getHttpServer() as Server;
  http.requestTimeout = server.requestTimeoutMs;
  http.headersTimeout = server.headersTimeoutMs;
  // Read when the server starts listening, so setting it here, before listen(), takes effect.
  (http as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    HTTP_TIMEOUT_CHECK_INTERVAL_MS;
  const instance = app.getHttpAdapter().getInstance() as {
    set?: (key: string, value: unknown) => void;
  };
  instance.set?.('trust proxy', server.trustProxy ? 1 : false);
  app.use(bodyBounds(MAX_HTTP_BODY_BYTES, (req) => clientAddress(req, server.trustProxy)));
}

/** The JSON and form parsers, limited to MAX_HTTP_BODY_BYTES (the bridge's own app only). */
export function useBodyParsers(app: INestApplication): void {
  const express = app as INestApplication & {
    useBodyParser(type: string, options: Record<string, unknown>): unknown;
  };
  express.useBodyParser('json', { limit: MAX_HTTP_BODY_BYTES });
  express.useBodyParser('urlencoded', { limit: MAX_HTTP_BODY_BYTES, extended: true });
}
