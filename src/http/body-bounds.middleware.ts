import type { IncomingMessage, ServerResponse } from 'node:http';
import { RefusalLog } from '../logging/refusal-log.js';
import { answerAndClose, closeOnErrorStatus } from './close-connection.js';

const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/**
 * Ahead of every body parser: a request that declares a body over `maxBytes` is answered 413 at
 * once, the connection closed, nothing of the body read (the parsers would read it to the end
 * before answering). Any other request with a body has its connection closed if it is refused
 * (4xx) or fails (5xx). A chunked body (no length declared) is counted as it arrives and cut
 * with the same 413 the moment it passes `maxBytes`: the parsers would stop keeping it at their
 * limit but read the rest to the end before answering.
 */
export function bodyBounds(maxBytes: number, addressOf: (req: IncomingMessage) => string) {
  const refusals = new RefusalLog('HttpBounds');
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (!hasBody(req)) return next();
    const refuse = (bytes: string) => {
      const path = (req.url ?? '').split('?')[0].slice(0, 200);
      refusals.warn(
        `refused ${req.method} ${path} from ${addressOf(req)}: a body of ${bytes} bytes, over ${maxBytes}`,
      );
      answerAndClose(req, res, 413, `the request body is larger than ${maxBytes} bytes`);
    };
    const declared = req.headers['content-length'];
    if (declared !== undefined) {
      if (Number(declared) > maxBytes) return refuse(declared);
    } else {
      // The listener sees each chunk beside the parser's own (it attaches before the stream flows).
      let received = 0;
      const count = (chunk: Buffer) => {
        received += chunk.length;
        if (received <= maxBytes) return;
        req.off('data', count);
        refuse(`more than ${maxBytes}`);
      };
      req.on('data', count);
    }
    closeOnErrorStatus(res);
    next();
  };
}
