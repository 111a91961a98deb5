import { ContextIdFactory } from '@nestjs/core';
import { MAX_INSTRUCTIONS_BYTES, MAX_TOOLS } from '../realtime/session-bounds.js';
import { MAX_SAY_CHARS, type CallSessionUpdate } from './call-context.js';
import type { CallOwner } from './call-scope.js';
import { CallStart } from './call-start.js';
import { LiveCallContext } from './live-call-context.js';

/** A call's context whose scope has this owner (none: the call's parts are being built). */
function contextOwnedBy(owner: CallOwner | undefined, callSid = 'CA1'): LiveCallContext {
  const start = new CallStart(ContextIdFactory.create(), {
    callSid,
    streamSid: 'MZ1',
    accountSid: 'AC1',
    customParameters: {},
  });
  return new LiveCallContext(start, { owner }, () => Promise.reject(new Error('not used')));
}

/** A control that records what reached it: the checks run before anything does. */
function attached() {
  const updates: CallSessionUpdate[] = [];
  const said: string[] = [];
  const call = contextOwnedBy({
    transcript: [],
    fail: () => true,
    close: () => undefined,
    end: () => undefined,
    transfer: () => undefined,
    updateSession: (update) => updates.push(update),
    say: (text) => said.push(text),
  });
  return { call, updates, said };
}

describe('LiveCallContext.updateSession', () => {
  it('passes on only the fields given, tool names without repeats', () => {
    const { call, updates } = attached();
    call.updateSession({
      instructions: 'Now only help with the booking.',
      tools: ['cancel', 'cancel', 'end_call'],
      turnDetection: { type: 'semantic_vad', eagerness: 'high' },
    });
    call.updateSession({ turnDetection: null, instructions: undefined });
    expect(updates).toEqual([
      {
        instructions: 'Now only help with the booking.',
        tools: ['cancel', 'end_call'],
        turnDetection: { type: 'semantic_vad', eagerness: 'high' },
      },
      { turnDetection: null },
    ]);
  });

  it('sends nothing for an update without fields', () => {
    const { call, updates } = attached();
    call.updateSession({});
    expect(updates).toEqual([]);
  });

  it('refuses a voice change, saying why and where the voice is chosen', () => {
    const { call, updates } = attached();
    const withVoice = { voice: 'marin' } as CallSessionUpdate;
    expect(() => call.updateSession(withVoice)).toThrow(
      /cannot change the voice: the Realtime API refuses a new voice once the model has spoken; choose it in the CALL_SETTINGS_RESOLVER/,
    );
    expect(updates).toEqual([]);
  });

  it.each([
    [{ greeting: 'hi' }, 'updateSession cannot change "greeting"'],
    [{ instructions: 42 }, 'updateSession: instructions must be a string'],
    [{ tools: 'end_call' }, 'updateSession: tools must be an array of tool names'],
    [{ turnDetection: { type: 'vad' } }, 'turnDetection must be null or have type'],
  ])('refuses %j with a clear message', (update, message) => {
    const { call, updates } = attached();
    expect(() => call.updateSession(update as CallSessionUpdate)).toThrow(message);
    expect(updates).toEqual([]);
  });

  it(`passes on instructions of ${MAX_INSTRUCTIONS_BYTES} bytes and refuses one byte more`, () => {
    const { call, updates } = attached();
    // Two bytes each in UTF-8: the bound is on bytes, which is what goes to OpenAI.
    const atBound = 'é'.repeat(MAX_INSTRUCTIONS_BYTES / 2);
    call.updateSession({ instructions: atBound });
    expect(updates).toEqual([{ instructions: atBound }]);
    expect(() => call.updateSession({ instructions: `${atBound}x`, tools: ['end_call'] })).toThrow(
      'updateSession: instructions of 65,537 bytes, over MAX_INSTRUCTIONS_BYTES (65,536)',
    );
    expect(updates).toHaveLength(1);
  });

  it(`refuses a list of more than ${MAX_TOOLS} tool names`, () => {
    const { call, updates } = attached();
    const names = Array.from({ length: MAX_TOOLS }, (_, i) => `tool_${i}`);
    call.updateSession({ tools: names });
    expect(() => call.updateSession({ tools: [...names, 'one_more'] })).toThrow(
      `updateSession: 129 tool names, over MAX_TOOLS (${MAX_TOOLS})`,
    );
    expect(updates).toEqual([{ tools: names }]);
  });

  it('says the call has no session while it has no owner yet', () => {
    const call = contextOwnedBy(undefined, 'CA9');
    expect(() => call.updateSession({ instructions: 'x' })).toThrow('call CA9 has no session yet');
  });
});

describe('LiveCallContext.say', () => {
  it(`passes on a sentence of up to ${MAX_SAY_CHARS} characters`, () => {
    const { call, said } = attached();
    call.say('Your table is booked.');
    call.say('x'.repeat(MAX_SAY_CHARS));
    expect(said).toEqual(['Your table is booked.', 'x'.repeat(MAX_SAY_CHARS)]);
  });

  it('refuses an empty text and one that is too long, saying the bound', () => {
    const { call, said } = attached();
    expect(() => call.say('  ')).toThrow('say(text) needs a non-empty text');
    expect(() => call.say('x'.repeat(MAX_SAY_CHARS + 1))).toThrow(
      `say(text) takes at most ${MAX_SAY_CHARS} characters; got ${MAX_SAY_CHARS + 1}`,
    );
    expect(said).toEqual([]);
  });
});
