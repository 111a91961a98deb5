import type { IncomingMessage } from 'node:http';

/** Longer than any IP address (45 characters for IPv6 with an IPv4 tail); longer values are cut. */
const MAX_ADDRESS_CHARS = 64;

/**
 * The client's address, for throttles and log lines. Without a trusted proxy it is the socket's
 * peer. With TRUST_PROXY (exactly one proxy in front) it is the rightmost `X-Forwarded-For`
 * entry: the one that proxy appended from its own socket. Every entry to its left is whatever
 * the client chose to send, so keying anything on the first entry lets a client be anyone.
 * Express's `req.ip` says the same thing, as `trust proxy` is set to one hop (useHttpBounds).
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (!trustProxy) return peer;
  // Node joins repeated X-Forwarded-For headers with ", ", in the order received.
  const header = req.headers['x-forwarded-for'];
  const forwarded = Array.isArray(header) ? header.join(',') : header;
  const rightmost = forwarded?.split(',').at(-1)?.trim();
  return rightmost ? rightmost.slice(0, MAX_ADDRESS_CHARS) : peer;
}

/** A refused request's log line: what it asked, from which client address, and why not. */
export function refusedLine(
  req: IncomingMessage & { readonly path: string },
  trustProxy: boolean,
  why: string,
): string {
  return `refused ${req.method} ${req.path} from ${clientAddress(req, trustProxy)}: ${why}`;
}
