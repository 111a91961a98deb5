import { withoutControlCharacters } from './plain-text.js';

describe('withoutControlCharacters', () => {
  it('removes C0 and C1 controls, DEL, CR/LF and terminal escapes', () => {
    expect(
      withoutControlCharacters('+1555\r\nwarn forged\u0000\u0007\u001b[31m\u007f\u0085\u009f'),
    ).toBe('+1555warn forged[31m');
  });

  it('removes every one of them, not only the first', () => {
    expect(withoutControlCharacters('a\nb\nc\td')).toBe('abcd');
  });

  it('removes unpaired surrogates and the noncharacters U+FFFE and U+FFFF', () => {
    expect(withoutControlCharacters('x\uD800y\uDC00z\uFFFE\uFFFF')).toBe('xyz');
  });

  it('keeps real text: accents, emoji (a surrogate pair), spaces and other scripts', () => {
    const text = 'Zoë 😀 Ωμέγα 日本 \u00a0end';
    expect(withoutControlCharacters(text)).toBe(text);
  });
});
