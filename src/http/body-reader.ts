import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerAndClose } from './close-connection.js';

export type BodyRequest = IncomingMessage & { body?: unknown };
type Next = (error?: unknown) => void;

/**
 * Reads a request's body to the end, at most `maxBytes` of it (413 and the connection closed
 * past that, nothing more read), and hands the bytes to `use`. Body parsers that run later see
 * a finished request and leave it alone, so a reader placed ahead of an application's own
 * parsers decides this route's body without changing theirs.
 */
export function readBoundedBody(
  req: BodyRequest,
  res: ServerResponse,
  next: Next,
  maxBytes: number,
  use: (bytes: Buffer) => void,
): void {
  const tooLarge = () =>
    answerAndClose(req, res, 413, `the request body is larger than ${maxBytes} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) return tooLarge();
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
    try {
      use(Buffer.concat(chunks));
    } catch (error) {
      return next(error);
    }
    next();
  });
  req.on('error', () => {
    // The client hung up mid-body, or the server's request timeout cut it (408 already sent):
    // nobody is left to answer, and a stranger can do this at will, so it is no error of ours
    // to log with a stack. The socket is already gone; drop what was read.
    if (done) return;
    done = true;
    chunks.length = 0;
  });
}

/**
 * A form body (`application/x-www-form-urlencoded`, as Twilio posts its webhooks) as a flat
 * record: a name given twice becomes a list, as Express's parser makes it, and as Twilio's
 * signature algorithm reads it. The record has no prototype, so a field named `toString` or
 * `__proto__` is a field like any other (signed, checked), and a repeated name is appended in
 * place: linear in the body, however a stranger repeats a name before the signature is checked.
 */
export function parseForm(bytes: Buffer): Record<string, string | string[]> {
  const fields = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(bytes.toString('utf8'))) {
    const before = fields[name];
    if (before === undefined) fields[name] = value;
    else if (Array.isArray(before)) before.push(value);
    else fields[name] = [before, value];
  }
  return fields;
}

/** True when the request says its body is of this media type (parameters aside). */
export function hasMediaType(req: IncomingMessage, type: string): boolean {
  const declared = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  return declared === type;
}
