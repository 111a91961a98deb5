import type { INestApplication } from '@nestjs/common';
import { clientAddress } from './client-address.js';
import type { ServerConfig } from '../config/config.namespaces.js';
import { bodyBounds } from './body-bounds.middleware.js';
import { MAX_HTTP_BODY_BYTES } from './http-bounds.js';

/**
 * The standalone service's bounds on every route (a host application's routes are its own; the
 * bridge's are bounded by BridgeHttpSetup in any application): the early 413 and the closing of
 * refused connections (bodyBounds), and Express's notion of the client address (`trust proxy`:
 * one hop with TRUST_PROXY, as clientAddress reads it). The server's timeouts are the module's.
 */
export function useHttpBounds(app: INestApplication, server: ServerConfig): void {
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
