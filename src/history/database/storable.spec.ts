import { storableJson, storableText, storableTextOrNull } from './storable.js';

describe('storable text and JSON (what PostgreSQL refuses, replaced by U+FFFD)', () => {
  it('replaces NUL and unpaired surrogates, and keeps pairs and every other character', () => {
    expect(storableText('a\u0000b')).toBe('a\uFFFDb');
    expect(storableText('high \uD83D alone')).toBe('high \uFFFD alone');
    expect(storableText('low \uDE00 alone')).toBe('low \uFFFD alone');
    expect(storableText('\uDE00\uD83D')).toBe('\uFFFD\uFFFD');
    expect(storableText('paired 😀, accents é, tab\t, \u0001')).toBe(
      'paired 😀, accents é, tab\t, \u0001',
    );
    expect(storableTextOrNull(null)).toBeNull();
  });

  it('writes JSON as JSON.stringify does when nothing needs replacing', () => {
    const value = { text: 'Lyon 😀', path: 'C:\\\\u0000 is text', list: [1, null, true] };
    expect(storableJson(value)).toBe(JSON.stringify(value));
  });

  it('replaces them in strings and keys at any depth, and keeps the rest', () => {
    const value = {
      transcript: [{ role: 'caller', text: 'x\u0000y', atMs: 10 }],
      tools: [{ arguments: { 'k\u0000': ['\uD800', { deep: 'ok' }] }, ok: true, ms: 3 }],
      at: new Date('2026-12-06T10:00:00.000Z'),
    };
    expect(JSON.parse(storableJson(value))).toEqual({
      transcript: [{ role: 'caller', text: 'x\uFFFDy', atMs: 10 }],
      tools: [{ arguments: { 'k\uFFFD': ['\uFFFD', { deep: 'ok' }] }, ok: true, ms: 3 }],
      at: '2026-12-06T10:00:00.000Z',
    });
  });
});
