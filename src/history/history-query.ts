import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';
import { CALL_OUTCOMES } from '../call/call-outcome.js';
import { LOST_OUTCOME } from './history-record.js';

/** Calls one page lists unless `limit` says otherwise, and the most it may say. */
export const DEFAULT_HISTORY_PAGE = 50;
export const MAX_HISTORY_PAGE = 200;
/** The longest `q` (transcript search) and `number` a list takes. */
export const MAX_HISTORY_SEARCH_CHARS = 200;
export const MAX_HISTORY_NUMBER_CHARS = 64;
/** A cursor is ours (base64url of [endedAt, id]): anything longer is not one. */
export const MAX_HISTORY_CURSOR_CHARS = 100;
/** CSV export: at most this many rows in one file (newest first; `from`/`to` narrow it). */
export const MAX_HISTORY_CSV_ROWS = 10_000;

export interface HistoryQuery {
  limit: number;
  cursor?: { endedAt: string; id: number };
  from?: string;
  to?: string;
  number?: string;
  outcome?: string;
  q?: string;
  format: 'json' | 'csv';
}

/** The years PostgreSQL and ISO 8601's plain form share: a date outside is the client's error. */
const FIRST_YEAR = 1;
const LAST_YEAR = 9999;
/** The largest `serial` id PostgreSQL gives: a cursor with a larger one was never ours. */
const MAX_ROW_ID = 2 ** 31 - 1;

const isoDate = z
  .string()
  .max(40)
  .transform((value, ctx) => {
    const date = new Date(Date.parse(value));
    const year = date.getUTCFullYear();
    // An unparsable date is NaN, and so outside the years too.
    if (!(year >= FIRST_YEAR && year <= LAST_YEAR)) {
      ctx.addIssue({ code: 'custom', message: 'expected an ISO date such as 2026-01-31' });
      return z.NEVER;
    }
    return date.toISOString();
  });

/** Free text for the database: PostgreSQL's text cannot hold NUL, so one is a 400, not a 503. */
const searchText = (maxChars: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(maxChars)
    .refine((value) => !value.includes('\u0000'), 'must not contain NUL');

const cursorSchema = z
  .string()
  .max(MAX_HISTORY_CURSOR_CHARS)
  .transform((value, ctx) => {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
      const [endedAt, id] = z
        .tuple([isoDate, z.number().int().nonnegative().max(MAX_ROW_ID)])
        .parse(parsed);
      return { endedAt, id };
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not a cursor this API gave' });
      return z.NEVER;
    }
  });

const querySchema = z.object({
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'expected a whole number')
    .transform(Number)
    .refine((n) => n >= 1 && n <= MAX_HISTORY_PAGE, `from 1 to ${MAX_HISTORY_PAGE}`)
    .optional(),
  cursor: cursorSchema.optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  number: searchText(MAX_HISTORY_NUMBER_CHARS).optional(),
  outcome: z.enum([...CALL_OUTCOMES, LOST_OUTCOME]).optional(),
  q: searchText(MAX_HISTORY_SEARCH_CHARS).optional(),
  format: z.enum(['json', 'csv']).optional(),
});

/** The list's query string, checked (400 with every problem), each input bounded. */
export function parseHistoryQuery(raw: Record<string, unknown>): HistoryQuery {
  // Express makes `?a=1&a=2` an array (and `?a[b]=1` an object): one value per parameter, or
  // the client learns that its second filter was not applied.
  const repeated = Object.entries(raw).filter(([, value]) => typeof value === 'object');
  if (repeated.length > 0) {
    throw new BadRequestException(repeated.map(([key]) => `${key.slice(0, 64)}: give it once`));
  }
  const result = querySchema.safeParse(raw);
  if (!result.success) {
    throw new BadRequestException(
      result.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`),
    );
  }
  const { limit, format, ...rest } = result.data;
  return { ...rest, limit: limit ?? DEFAULT_HISTORY_PAGE, format: format ?? 'json' };
}
