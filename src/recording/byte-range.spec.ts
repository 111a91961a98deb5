import { parseByteRange } from './byte-range.js';

describe('parseByteRange', () => {
  it.each([
    ['bytes=0-99', { start: 0, end: 99 }],
    ['bytes=100-', { start: 100, end: 999 }],
    ['bytes=-100', { start: 900, end: 999 }],
    ['bytes=990-2000', { start: 990, end: 999 }],
    ['bytes=-5000', { start: 0, end: 999 }],
  ])('reads %s of 1000 bytes', (header, range) => {
    expect(parseByteRange(header, 1000)).toEqual(range);
  });

  it.each(['bytes=1000-', 'bytes=5000-6000', 'bytes=-0'])(
    'refuses %s of 1000 bytes (416)',
    (header) => {
      expect(parseByteRange(header, 1000)).toBe('unsatisfiable');
    },
  );

  it.each([
    undefined,
    'bytes=5-1',
    'items=0-1',
    'bytes=0-1,5-9',
    'bytes=-',
    'bytes=a-b',
    `bytes=0-${'9'.repeat(200)}`,
  ])('ignores %s: the whole file is sent', (header) => {
    expect(parseByteRange(header, 1000)).toBeUndefined();
  });
});
