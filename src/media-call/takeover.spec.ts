import type { CallEnding } from '../call/call-ending.js';
import type { CallRecorder } from '../call/call-recorder.js';
import type { CallScope } from '../call/call-scope.js';
import type { CallSettings } from '../call/call-settings.service.js';
import type { CallStart } from '../call/call-start.js';
import type { BargeIn } from './barge-in.js';
import { OperatorLine } from './operator-line.js';
import type { RealtimeLink } from './realtime-link.js';
import { MAX_TAKEOVERS_PER_CALL, Takeover } from './takeover.js';
import type { Takeovers } from './takeovers.service.js';
import type { TwilioMediaLink } from './twilio-media-link.js';

function takeoverOfOneCall() {
  const recorded: string[] = [];
  const takeover = new Takeover(
    { callSid: 'CA1' } as CallStart,
    { run: (fn: (...args: unknown[]) => unknown, ...args: unknown[]) => fn(...args) } as CallScope,
    new OperatorLine(),
    { silence: () => undefined } as unknown as BargeIn,
    { send: () => undefined } as unknown as RealtimeLink,
    {} as TwilioMediaLink,
    {
      takeover: () => recorded.push('takeover'),
      handback: () => recorded.push('handback'),
      memory: { addSystem: () => 'item_1' },
    } as unknown as CallRecorder,
    { yieldToOperator: () => recorded.push('wrap-up dropped') } as unknown as CallEnding,
    { add: () => undefined, remove: () => undefined } as unknown as Takeovers,
    { turnDetection: null } as CallSettings,
  );
  takeover.begin();
  return { takeover, recorded };
}

describe('Takeover', () => {
  it('refuses a second operator while the line is held, and takes it back from the holder only', () => {
    const { takeover, recorded } = takeoverOfOneCall();
    const first = {};
    const second = {};
    expect(takeover.take(first, 'ann')).toEqual({ ok: true });
    expect(takeover.take(second, 'bob')).toEqual({
      ok: false,
      reason: 'another operator holds the line',
    });
    expect(takeover.handBack(second).ok).toBe(false);
    expect(takeover.handBack(first)).toEqual({ ok: true });
    expect(recorded).toEqual(['wrap-up dropped', 'takeover', 'handback']);
  });

  it(`allows ${MAX_TAKEOVERS_PER_CALL} takeovers of one call, then refuses with the reason`, () => {
    const { takeover, recorded } = takeoverOfOneCall();
    const operator = {};
    for (let i = 0; i < MAX_TAKEOVERS_PER_CALL; i++) {
      expect(takeover.take(operator, 'ann').ok).toBe(true);
      expect(takeover.handBack(operator).ok).toBe(true);
    }
    expect(takeover.take(operator, 'ann')).toEqual({
      ok: false,
      reason: `this call was taken over ${MAX_TAKEOVERS_PER_CALL} times already`,
    });
    expect(recorded.filter((what) => what === 'takeover')).toHaveLength(MAX_TAKEOVERS_PER_CALL);
  });
});
