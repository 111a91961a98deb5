import { ConfigValidationError, parseEnv } from './env.schema.js';

/** The problems the environment schema finds with TRANSFER_* (others are not this spec's). */
function transferProblems(env: Record<string, string>): string[] {
  try {
    parseEnv(env);
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    return error.problems.filter((problem) => problem.startsWith('TRANSFER_'));
  }
  return [];
}

describe('TRANSFER_NUMBER and TRANSFER_ALLOWED_NUMBERS', () => {
  it('take every target form the call-control API takes', () => {
    const targets = [
      '+15551234567',
      'tel:+1-555-123-4567',
      'sip:desk@pbx.example.com',
      'sips:desk@pbx.example.com:5061',
    ];
    for (const target of targets) {
      expect(transferProblems({ TRANSFER_NUMBER: target })).toEqual([]);
    }
    expect(transferProblems({ TRANSFER_ALLOWED_NUMBERS: targets.join(', ') })).toEqual([]);
  });

  it('refuse anything else, naming each bad entry', () => {
    expect(transferProblems({ TRANSFER_NUMBER: 'http://example.com' })).toHaveLength(1);
    const problems = transferProblems({
      TRANSFER_ALLOWED_NUMBERS: '+15551234567, 5551234, mailto:a@b.c',
    });
    expect(problems.join('\n')).toContain('"5551234"');
    expect(problems.join('\n')).toContain('"mailto:a@b.c"');
  });
});
