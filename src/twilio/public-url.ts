import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** The path Twilio opens the media WebSocket on. */
export const MEDIA_STREAM_PATH = '/media-stream';

export interface PublicUrlOptions {
  publicUrl?: string;
  trustProxy: boolean;
}

function firstHeaderValue(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  const first = raw?.split(',')[0]?.trim();
  return first || undefined;
}

/**
 * A Host (or X-Forwarded-Host) we can build a URL from: a DNS name or IPv4 address, or an IPv6
 * literal in brackets, with an optional port. Anything else is the client's mistake (400), never
 * ours (it used to reach `new URL` and come out as a 500, even unsigned).
 */
const VALID_HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/;
/** Longer than any real host name (253) plus a port; checked before the regex runs. */
const MAX_HOST_LENGTH = 300;
const VALID_PROTOS = new Set(['http', 'https', 'ws', 'wss']);

/** A request whose Host or X-Forwarded-* headers cannot name a URL. */
export class InvalidHostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidHostError';
  }
}

/**
 * The base URL (scheme://host[:port][/prefix], no trailing slash) under which Twilio reaches us.
 * Signatures are computed by Twilio over the URL it requested, so behind a TLS-terminating proxy
 * this must be the public one, never http://pod:8080. `X-Forwarded-*` is honoured only when the
 * operator says a proxy sets it (TRUST_PROXY), since anyone can send those headers.
 */
export function publicBaseUrl(req: IncomingMessage, options: PublicUrlOptions): string {
  if (options.publicUrl) return options.publicUrl;
  const encrypted = Boolean((req.socket as TLSSocket).encrypted);
  let proto = encrypted ? 'https' : 'http';
  let host = req.headers.host ?? 'localhost';
  if (options.trustProxy) {
    proto = firstHeaderValue(req.headers['x-forwarded-proto'])?.toLowerCase() ?? proto;
    host = firstHeaderValue(req.headers['x-forwarded-host']) ?? host;
  }
  if (host.length > MAX_HOST_LENGTH || !VALID_HOST.test(host)) {
    throw new InvalidHostError(`invalid Host${options.trustProxy ? ' or X-Forwarded-Host' : ''}`);
  }
  if (!VALID_PROTOS.has(proto)) throw new InvalidHostError('invalid X-Forwarded-Proto');
  // A proxy may report the WebSocket scheme itself.
  if (proto === 'wss') proto = 'https';
  if (proto === 'ws') proto = 'http';
  return `${proto}://${host}`;
}

/**
 * `wss://host[:port][/prefix][/mount]/media-stream` for an https base, `ws://...` for http. A
 * path in PUBLIC_URL is the prefix a proxy strips before the request reaches us (e.g. an ingress
 * that routes https://example.com/voice/* here): Twilio must connect, and signs, with the prefix.
 * `mount` is where the application itself serves the bridge (its global prefix, a RouterModule
 * path: BridgeMount), which the proxy does not strip.
 */
export function mediaStreamUrl(baseUrl: string, mount = ''): string {
  const url = new URL(baseUrl);
  const scheme = url.protocol === 'https:' ? 'wss' : 'ws';
  const prefix = url.pathname.replace(/\/+$/, '');
  return `${scheme}://${url.host}${prefix}${mount}${MEDIA_STREAM_PATH}`;
}

/** Twilio accepts only wss:// Stream URLs (error 31922); ws:// works only with local fakes. */
export function isInsecureStreamUrl(streamUrl: string): boolean {
  return streamUrl.startsWith('ws://');
}

/** NODE_ENV values under which a ws:// Stream URL is expected (local runs, tests). */
export function isLocalEnvironment(nodeEnv = process.env.NODE_ENV): boolean {
  return nodeEnv === 'development' || nodeEnv === 'test';
}

/** The voice webhook Twilio asks for TwiML (TwilioController), a number's or an outbound call's. */
export const TWIML_PATH = '/api/twiml';

/** The voice webhook's URL: the public base (with a proxy's prefix), then the bridge's mount. */
export function twimlUrl(baseUrl: string, mount = ''): string {
  return `${baseUrl}${mount}${TWIML_PATH}`;
}

/** The route Twilio reports `<Stream>` status to (see StreamStatusController). */
export const STREAM_STATUS_PATH = '/api/stream-status';

/** `statusCallback` of our `<Stream>`: the same public base (and mount) the webhook was reached at. */
export function streamStatusUrl(baseUrl: string, mount = ''): string {
  return `${baseUrl}${mount}${STREAM_STATUS_PATH}`;
}
