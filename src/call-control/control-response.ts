import { BadRequestException, HttpException } from '@nestjs/common';
import { z } from 'zod';
import {
  MAX_CONTROL_REASON_CHARS,
  type ControlError,
  type ControlOutcome,
  type ControlResult,
} from '../directory/call-directory.js';

/**
 * How every HTTP surface (the API, the console) answers a call-control result: the one mapping
 * from domain results to status codes, so that the two never disagree again.
 */
const HTTP_STATUS: Readonly<Record<ControlError, number>> = {
  malformed_id: 400,
  invalid_target: 400,
  invalid_text: 400,
  unknown_call: 404,
  refused: 409,
  failed: 500,
  carrier_failed: 502,
  unavailable: 503,
  timeout: 504,
};

/** The body of a call-control success. */
export interface ControlResponse {
  callSid: string;
  status: ControlOutcome;
  to?: string;
}

/** A call-control refusal as every surface answers it: `{statusCode, error, message}`. */
export function controlRefusal(error: ControlError, reason: string): HttpException {
  const statusCode = HTTP_STATUS[error];
  const message = reason.slice(0, MAX_CONTROL_REASON_CHARS);
  return new HttpException({ statusCode, error, message }, statusCode);
}

/** The success body, or the failure as an HttpException (`{statusCode, error, message}`). */
export function controlResponse(callSid: string, result: ControlResult): ControlResponse {
  if (!result.ok) throw controlRefusal(result.error, result.reason);
  return result.to === undefined
    ? { callSid, status: result.status }
    : { callSid, status: result.status, to: result.to };
}

/**
 * A transfer's body: `{to}`; `{number}` is taken too, the name the transfer_call tool's argument
 * has. The target itself is checked by the call-control rules (400 `invalid_target`).
 */
export const transferBodySchema = z
  .strictObject({ to: z.string().max(256).optional(), number: z.string().max(256).optional() })
  .refine((body) => (body.to === undefined) !== (body.number === undefined), {
    message: 'give the destination as "to"',
  });

/** The destination of a transfer request, or a 400 naming what is wrong with the body. */
export function transferDestination(body: unknown): string {
  const parsed = transferBodySchema.safeParse(body);
  if (!parsed.success) {
    throw new BadRequestException(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`),
    );
  }
  return (parsed.data.to ?? parsed.data.number ?? '').trim();
}
