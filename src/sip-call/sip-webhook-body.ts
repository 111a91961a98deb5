import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerAndClose } from '../http/close-connection.js';
import { SIP_WEBHOOK_MAX_BODY_BYTES } from './sip.constants.js';

/** The webhook request once its body has been read: the exact bytes, for the signature. */
export type RequestWithRawBody = IncomingMessage & { body?: unknown };

/**
 * Reads the webhook's body as raw bytes into `req.body`, before Nest's JSON parser could: the
 * signature is over the bytes as sent, which a parse and re-serialisation would not reproduce.
 * A body over `maxBytes` is answered 413 without reading further. Registered on the app, ahead
 * of the global body parsers, which then see a finished request and leave it alone.
 */
export function sipWebhookBodyReader(maxBytes = SIP_WEBHOOK_MAX_BODY_BYTES) {
  return (req: RequestWithRawBody, res: ServerResponse, next: (error?: unknown) => void): void => {
    if (req.method !== 'POST') return next();
    const tooLarge = () =>
      answerAndClose(req, res, 413, `the webhook body is larger than ${maxBytes} bytes`);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        req.pause();
        return tooLarge();
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      req.body = Buffer.concat(chunks);
      next();
    });
    req.on('error', (error) => {
      if (done) return;
      done = true;
      next(error);
    });
  };
}
