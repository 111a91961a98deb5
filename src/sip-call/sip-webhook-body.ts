import type { ServerResponse } from 'node:http';
import { readBoundedBody, type BodyRequest } from '../http/body-reader.js';
import { SIP_WEBHOOK_MAX_BODY_BYTES } from './sip.constants.js';

/** The webhook request once its body has been read: the exact bytes, for the signature. */
export type RequestWithRawBody = BodyRequest;

/**
 * Reads the webhook's body as raw bytes into `req.body`, before any JSON parser could: the
 * signature is over the bytes as sent, which a parse and re-serialisation would not reproduce.
 * A body over `maxBytes` is answered 413 without reading further. Runs ahead of the
 * application's body parsers (BridgeHttpSetup), which then see a finished request.
 */
export function sipWebhookBodyReader(maxBytes = SIP_WEBHOOK_MAX_BODY_BYTES) {
  return (req: RequestWithRawBody, res: ServerResponse, next: (error?: unknown) => void): void => {
    if (req.method !== 'POST') return next();
    readBoundedBody(req, res, next, maxBytes, (bytes) => {
      req.body = bytes;
    });
  };
}
