import { isBase64 } from './json-guards.js';

describe('isBase64', () => {
  it.each(['', 'AAAA', 'AAE=', 'AQ==', 'ab+/cd09', Buffer.from('hello world').toString('base64')])(
    'accepts padded base64 %p',
    (value) => expect(isBase64(value)).toBe(true),
  );

  it.each(['A', 'AAA', 'A===', '====', 'AA=A', 'AA-_', 'AAAA ', 'ÄAAA', 'A=AA'])(
    'refuses %p',
    (value) => expect(isBase64(value)).toBe(false),
  );

  it('checks a 6 MB string without overflowing the stack', () => {
    const big = Buffer.alloc(4_500_000, 0x7f).toString('base64');
    expect(big.length).toBeGreaterThanOrEqual(6_000_000);
    expect(isBase64(big)).toBe(true);
    expect(isBase64(big.slice(0, -4) + 'AA!A')).toBe(false);
  });
});
