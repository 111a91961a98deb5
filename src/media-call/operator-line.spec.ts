import { OperatorLine } from './operator-line.js';
import { handbackMessage } from './takeover.js';

describe('OperatorLine', () => {
  const vad = { type: 'server_vad' as const, create_response: true, interrupt_response: true };

  it('leaves the call’s turn detection alone while nobody holds the line', () => {
    expect(new OperatorLine().turnDetection(vad)).toBe(vad);
  });

  it('turns the model’s own answers and interruptions off while an operator holds it', () => {
    const line = new OperatorLine();
    line.hold({ operator: 'api', since: new Date() });
    expect(line.turnDetection(vad)).toEqual({
      type: 'server_vad',
      create_response: false,
      interrupt_response: false,
    });
    expect(line.turnDetection(null)).toBeNull();
    line.release();
    expect(line.turnDetection(vad)).toBe(vad);
  });
});

describe('handbackMessage', () => {
  it('names the two times (UTC) and the note', () => {
    const from = new Date('2026-01-02T10:31:05.120Z');
    const to = new Date('2026-01-02T10:32:40.900Z');
    const text = handbackMessage(from, to, 'Refund approved.');
    expect(text).toContain('between 10:31:05 and 10:32:40 UTC');
    expect(text).toContain('Refund approved.');
    expect(handbackMessage(from, to)).not.toContain('note');
  });
});
