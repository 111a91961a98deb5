import type { IncomingMessage, ServerResponse } from 'node:http';
import { RefusalLog } from '../logging/refusal-log.js';
import { answerAndClose, closeOnErrorStatus } from './close-connection.js';

const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/**
 * Ahead of every body parser: a request that declares a body over `maxBytes` is answered 413 at
 * once, the connection closed, nothing of the body read (the parsers would read it to the end
 * before answering). Any other request with a body has its connection closed if it is refused
 * (4xx) or fails (5xx). A chunked body (no length declared) over the limit is cut by the
 * parser's limit, its rest read until HTTP_REQUEST_TIMEOUT_MS at most, then 413 and closed.
 */
export function bodyBounds(maxBytes: number, addressOf: (req: IncomingMessage) => string) {
  const refusals = new RefusalLog('HttpBounds');
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (!hasBody(req)) return next();
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      const path = (req.url ?? '').split('?')[0].slice(0, 200);
      refusals.warn(
        `refused ${req.method} ${path} from ${addressOf(req)}: a body of ${declared} bytes, over ${maxBytes}`,
      );
      return answerAndClose(req, res, 413, `the request body is larger than ${maxBytes} bytes`);
    }
    closeOnErrorStatus(res);
    next();
  };
}
