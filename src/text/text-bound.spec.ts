import { TRUNCATION_MARKER, cutText, truncateStrings, truncateText } from './text-bound.js';

describe('truncateText', () => {
  it('keeps text within the bound as it is', () => {
    expect(truncateText('hello', 5)).toBe('hello');
  });

  it('cuts longer text and says so with the marker', () => {
    expect(truncateText('hello world', 5)).toBe(`hello${TRUNCATION_MARKER}`);
    expect(truncateText('hello world', 5)).toBe('hello…[truncated]');
  });

  it('never cuts a surrogate pair in half', () => {
    const cut = truncateText('ab😀cd', 3);
    expect(cut).toBe(`ab${TRUNCATION_MARKER}`);
    expect(cut.charCodeAt(1)).toBe('b'.charCodeAt(0));
    expect(cut.codePointAt(2)).toBe(TRUNCATION_MARKER.codePointAt(0));
  });

  it('cuts before a high surrogate at either end of its range, and keeps a whole pair', () => {
    expect(truncateText('a\uD800\uDC00b', 2)).toBe(`a${TRUNCATION_MARKER}`);
    expect(truncateText('a\uDBFF\uDFFFb', 2)).toBe(`a${TRUNCATION_MARKER}`);
    expect(truncateText('a😀b', 3)).toBe(`a😀${TRUNCATION_MARKER}`);
    expect(truncateText('ab\uD7FFc', 3)).toBe(`ab\uD7FF${TRUNCATION_MARKER}`);
  });
});

describe('truncateStrings', () => {
  it('cuts every string at any depth and leaves other values alone', () => {
    const at = new Date(0);
    const value = {
      text: 'x'.repeat(10),
      n: 3,
      list: ['y'.repeat(10), { deep: 'z'.repeat(10) }],
      at,
    };
    expect(truncateStrings(value, 4)).toEqual({
      text: `xxxx${TRUNCATION_MARKER}`,
      n: 3,
      list: [`yyyy${TRUNCATION_MARKER}`, { deep: `zzzz${TRUNCATION_MARKER}` }],
      at,
    });
    expect(value.text).toHaveLength(10);
  });

  it('keeps class instances, null and undefined as they are', () => {
    class Holder {
      text = 'x'.repeat(10);
    }
    const holder = new Holder();
    const value = { holder, none: null, missing: undefined, list: [null, undefined] };
    const cut = truncateStrings(value, 4);
    expect(cut.holder).toBe(holder);
    expect(cut).toBe(value);
  });

  it('cuts strings in a top-level array, and returns it as is when nothing needed cutting', () => {
    expect(truncateStrings(['short', 'x'.repeat(10)], 5)).toEqual([
      'short',
      `xxxxx${TRUNCATION_MARKER}`,
    ]);
    const list = ['a', 'b'];
    expect(truncateStrings(list, 5)).toBe(list);
  });

  it('returns the same object when nothing needed cutting', () => {
    const value = { text: 'short', list: ['a'] };
    expect(truncateStrings(value, 100)).toBe(value);
  });
});

describe('cutText', () => {
  it('keeps text within the bound as it is, and cuts longer text to its first characters', () => {
    const short = 'hello';
    expect(cutText(short, 5)).toBe(short);
    expect(cutText('x'.repeat(100) + 'tail', 100)).toBe('x'.repeat(100));
  });

  it('copies every code unit, lone surrogates and all', () => {
    const text = 'a\ud83d\ude00b\ud800c\udc00d' + 'e'.repeat(50);
    expect(cutText(text, 9)).toBe(text.slice(0, 9));
  });
});
