import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Answers `status` with `Connection: close` and ends the socket once the answer is written,
 * without reading what is left of the body: a refused request must not keep its connection
 * (and the server's reading) busy with a body nobody wants. A request already answered (the
 * body bound and a route's own reader both count a chunked body, and cut it on the same chunk)
 * is only cut off: writing a second answer would throw inside the body's `data` event.
 */
export function answerAndClose(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  message: string,
): void {
  if (res.headersSent) {
    req.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ statusCode: status, message }), () => req.destroy());
}

/**
 * From here on, any 4xx or 5xx answer to this request carries `Connection: close`, so Node ends
 * the socket after it instead of reading the rest of the body to keep the connection alive.
 * (Express and Nest write the status through `writeHead`, explicitly or implicitly.)
 */
export function closeOnErrorStatus(res: ServerResponse): void {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  res.writeHead = (statusCode: number, ...rest: unknown[]) => {
    if (statusCode >= 400 && !res.headersSent) res.setHeader('connection', 'close');
    return writeHead(statusCode, ...rest);
  };
}
