import type { IncomingMessage } from 'node:http';
import { publicBaseUrl, type PublicUrlOptions } from '../twilio/public-url.js';

/**
 * The console's own origin, as the browser sees it: PUBLIC_URL's, else the request's Host (and
 * X-Forwarded-* behind a trusted proxy). Undefined when the headers name no URL.
 */
export function consoleOrigin(req: IncomingMessage, options: PublicUrlOptions): string | undefined {
  try {
    return new URL(publicBaseUrl(req, options)).origin;
  } catch {
    return undefined;
  }
}

/**
 * True when a browser request comes from the console's own page. A browser always sends
 * `Origin` on a WebSocket upgrade and a page cannot forge it, while the session cookie would
 * ride along from any site's page: a WebSocket has no CORS, so this is its CSRF defence.
 */
export function fromConsoleOrigin(req: IncomingMessage, options: PublicUrlOptions): boolean {
  const origin = req.headers.origin;
  return origin !== undefined && origin === consoleOrigin(req, options);
}
