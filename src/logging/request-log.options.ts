import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Options } from 'pino-http';
import { truncateText } from '../text/text-bound.js';
import { LogThrottle } from './log-throttle.js';
import { REFUSAL_LOG_BURST, REFUSAL_LOG_LINES_PER_S } from './refusal-log.js';
import { redactUrl } from './redact-url.js';

/** Paths pino blanks out wherever they appear: no secret reaches a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-twilio-signature"]',
  // OpenAI's webhook signature (a MAC, not the secret, but no more use in a log than Twilio's).
  'req.headers["webhook-signature"]',
  'req.headers.cookie',
  'req.headers["api-key"]',
  'res.headers["set-cookie"]',
];

const QUIET_PATHS = /^\/(health|metrics)(\/|\?|$)/;

/**
 * Routes anyone may call without proving anything, answered 2xx: the console's page, its static
 * files and its session probe (under whatever prefix the bridge is mounted). Their lines are
 * short and throttled like refusals: a request loop on them must not become a log flood.
 */
const PUBLIC_PATHS = /\/console(\/assets\/.+|\/session)?\/?$/;

/**
 * What of a request a log line keeps. Strangers choose a URL's length (up to Node's 16 KiB of
 * headers) and reach public routes (the console's page and assets) as well as refused ones: a
 * line each must stay short, or one client writes gigabytes of log a day.
 */
export const MAX_LOGGED_URL_CHARS = 300;
export const MAX_LOGGED_HEADERS = 20;
export const MAX_LOGGED_HEADER_CHARS = 200;

type Req = IncomingMessage & { originalUrl?: string };
type SerializedReq = { url?: unknown; query?: unknown; headers?: unknown };

/** A URL as a log line shows it: credentials in its query redacted, cut to its bound. */
export function loggedUrl(url: string): string {
  return truncateText(redactUrl(url), MAX_LOGGED_URL_CHARS);
}

/** The first MAX_LOGGED_HEADERS headers, each value cut to MAX_LOGGED_HEADER_CHARS. */
function loggedHeaders(headers: unknown): unknown {
  if (typeof headers !== 'object' || headers === null) return headers;
  const kept = Object.entries(headers).slice(0, MAX_LOGGED_HEADERS);
  return Object.fromEntries(
    kept.map(([name, value]) => [
      name,
      typeof value === 'string' ? truncateText(value, MAX_LOGGED_HEADER_CHARS) : value,
    ]),
  );
}

/** The held-back count of a refused request's line, from customLogLevel to its message. */
const REFUSAL_LINE = Symbol('refusalLine');
type Res = ServerResponse & { [REFUSAL_LINE]?: string };

const isClientError = (res: ServerResponse) => res.statusCode >= 400 && res.statusCode < 500;
/** A line a stranger can cause at will: a refusal, or a public route's answer. */
const isStrangers = (req: Req, res: ServerResponse) =>
  isClientError(res) || PUBLIC_PATHS.test((req.originalUrl ?? req.url ?? '').split('?')[0]);

/**
 * pino-http's request lines. A request's own log lines carry only its `reqId` (quietReqLogger),
 * not a copy of every header; the request line at the end carries the request. Lines for 4xx
 * answers are what strangers cause (no token, no signature, scans): one short line each
 * (method, URL, status, time), through a LogThrottle like every other refusal. Credentials in
 * a URL's query are redacted wherever the URL is logged.
 */
export function requestLogOptions(level: string): Options<Req, Res> {
  const refusals = new LogThrottle(REFUSAL_LOG_LINES_PER_S, REFUSAL_LOG_BURST);
  const publicLines = new LogThrottle(REFUSAL_LOG_LINES_PER_S, REFUSAL_LOG_BURST);
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    autoLogging: { ignore: (req) => QUIET_PATHS.test(req.url ?? '') },
    quietReqLogger: true,
    quietResLogger: true,
    serializers: {
      req: (req: SerializedReq) => {
        if (typeof req.url === 'string') req.url = loggedUrl(req.url);
        // The URL carries the query, redacted and cut; the parsed copy would carry it whole.
        req.query = undefined;
        req.headers = loggedHeaders(req.headers);
        return req;
      },
    },
    customLogLevel: (req, res, err) => {
      if (err || !isStrangers(req, res)) return 'info';
      const throttle = isClientError(res) ? refusals : publicLines;
      const line = throttle.line(isClientError(res) ? 'request refused' : 'request completed');
      if (line === undefined) return 'silent';
      res[REFUSAL_LINE] = line;
      return 'info';
    },
    customSuccessObject: (req, res, val: Record<string, unknown>) =>
      isStrangers(req, res)
        ? {
            request: `${req.method} ${loggedUrl(req.originalUrl ?? req.url ?? '')}`,
            statusCode: res.statusCode,
            responseTime: val.responseTime,
          }
        : { req, ...val },
    customSuccessMessage: (_req, res) => res[REFUSAL_LINE] ?? 'request completed',
    customErrorObject: (req, _res, _err, val: Record<string, unknown>) => ({ req, ...val }),
  };
}
