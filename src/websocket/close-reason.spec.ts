import { closeReason, MAX_CLOSE_REASON_BYTES } from './close-reason.js';

describe('closeReason', () => {
  it('keeps a short reason as it is', () => {
    expect(closeReason('stream token invalid')).toBe('stream token invalid');
  });

  it('cuts ASCII at 123 bytes', () => {
    expect(closeReason('x'.repeat(300))).toBe('x'.repeat(MAX_CLOSE_REASON_BYTES));
  });

  it('cuts multibyte text by bytes, never inside a character', () => {
    const cut = closeReason('é'.repeat(100) + '😀'.repeat(10));
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
    expect(cut).toBe('é'.repeat(61));
    const emoji = closeReason('a' + '😀'.repeat(40));
    expect(Buffer.byteLength(emoji)).toBe(121);
    expect(emoji.endsWith('😀')).toBe(true);
  });
});
