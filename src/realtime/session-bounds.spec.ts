import {
  MAX_INSTRUCTIONS_BYTES,
  MAX_TOOLS,
  instructionsProblem,
  toolNamesProblem,
} from './session-bounds.js';

describe('session bounds', () => {
  it('counts instructions in UTF-8 bytes, however many characters they are', () => {
    expect(instructionsProblem('x'.repeat(MAX_INSTRUCTIONS_BYTES))).toBeUndefined();
    expect(instructionsProblem('x'.repeat(MAX_INSTRUCTIONS_BYTES + 1))).toBe(
      'instructions of 65,537 bytes, over MAX_INSTRUCTIONS_BYTES (65,536)',
    );
    // 21,845 three-byte characters are 65,535 bytes: one more byte fits, two do not.
    const euros = '€'.repeat(21_845);
    expect(instructionsProblem(`${euros}x`)).toBeUndefined();
    expect(instructionsProblem(`${euros}xx`)).toMatch(/^instructions of 65,537 bytes/);
    // Astral characters: 2 UTF-16 units, 4 bytes each.
    expect(instructionsProblem('😀'.repeat(MAX_INSTRUCTIONS_BYTES / 4))).toBeUndefined();
    expect(instructionsProblem('😀'.repeat(MAX_INSTRUCTIONS_BYTES / 4 + 1))).toMatch(
      /65,540 bytes/,
    );
  });

  it('counts them as the session carries them: a control character is a 6-byte JSON escape', () => {
    // 10,922 escapes are 65,532 bytes, and 4 more bytes fit.
    const controls = '\u0001'.repeat(Math.floor(MAX_INSTRUCTIONS_BYTES / 6));
    expect(instructionsProblem(`${controls}xxxx`)).toBeUndefined();
    expect(instructionsProblem(`${controls}\u0001`)).toMatch(/^instructions of 65,538 bytes/);
    // A lone surrogate is escaped too (\ud800); a quote is 2 bytes (\").
    expect(instructionsProblem(`${'\ud800'.repeat(10_922)}\ud800`)).toMatch(/65,538 bytes/);
    expect(instructionsProblem(`${'x'.repeat(MAX_INSTRUCTIONS_BYTES - 2)}"`)).toBeUndefined();
    expect(instructionsProblem(`${'x'.repeat(MAX_INSTRUCTIONS_BYTES - 1)}"`)).toMatch(
      /65,537 bytes/,
    );
  });

  it(`takes up to ${MAX_TOOLS} tool names`, () => {
    expect(toolNamesProblem(Array.from({ length: MAX_TOOLS }, String))).toBeUndefined();
    expect(toolNamesProblem(Array.from({ length: MAX_TOOLS + 1 }, String))).toBe(
      '129 tool names, over MAX_TOOLS (128)',
    );
  });
});
