/**
 * Largest request body any route takes (the JSON and form parsers' limit, and the early 413 on
 * a declared Content-Length above it). Twilio's webhooks and the API's requests are a few KiB.
 */
export const MAX_HTTP_BODY_BYTES = 100 * 1024;

/**
 * How often Node looks for requests past HTTP_REQUEST_TIMEOUT_MS / HTTP_HEADERS_TIMEOUT_MS. Its
 * default (30 s) would let a slow request live up to twice the timeout.
 */
export const HTTP_TIMEOUT_CHECK_INTERVAL_MS = 1000;
