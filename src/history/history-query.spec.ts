import { BadRequestException } from '@nestjs/common';
import { parseHistoryQuery } from './history-query.js';

const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('parseHistoryQuery', () => {
  it('takes every outcome a record can have', () => {
    for (const outcome of ['completed', 'transferred', 'failed', 'shutdown', 'lost']) {
      expect(parseHistoryQuery({ outcome }).outcome).toBe(outcome);
    }
  });

  it('names a filter given twice', () => {
    expect(() => parseHistoryQuery({ number: ['+1555', '+1666'] })).toThrow(
      expect.objectContaining({
        response: expect.objectContaining({ message: ['number: give it once'] }),
      }) as Error,
    );
  });

  it('takes dates, a cursor and search text the database can hold', () => {
    const query = parseHistoryQuery({
      from: '2026-01-31',
      to: '9999-12-31T23:59:59Z',
      cursor: cursor(['2026-02-01T10:00:00.000Z', 2 ** 31 - 1]),
      q: 'refund',
      number: '+1555',
    });
    expect(query).toMatchObject({
      from: '2026-01-31T00:00:00.000Z',
      cursor: { endedAt: '2026-02-01T10:00:00.000Z', id: 2 ** 31 - 1 },
      q: 'refund',
      number: '+1555',
      limit: 50,
      format: 'json',
    });
  });

  // Each of these reached PostgreSQL, which refused it, and came back as a 503 ("the history
  // database is not answering"): the client's mistake reported as an outage.
  it.each([
    ['a year before 1', { from: '0000-01-01' }],
    ['a six-digit year', { from: '-200000-01-01T00:00:00Z' }],
    ['a year after 9999', { to: '+010000-01-01T00:00:00Z' }],
    ['a cursor id past serial', { cursor: cursor(['2026-02-01T10:00:00.000Z', 2 ** 31]) }],
    ['NUL in the search text', { q: 'a\u0000b' }],
    ['NUL in the number', { number: '\u0000' }],
    ['a filter given twice', { number: ['+1555', '+1666'] }],
    ['a filter given as an object', { q: { a: 'b' } }],
    ['an outcome there is none of', { outcome: 'bogus' }],
  ])('answers 400 for %s', (_name, raw) => {
    expect(() => parseHistoryQuery(raw)).toThrow(BadRequestException);
  });
});
