import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { FunctionCall } from '../realtime/realtime.events.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import type { CallContext } from './call-context.js';
import { ToolCallCoordinator, type ToolCallResult } from './tool-calls.js';

/** The signals the `waits` tool was given, newest last. */
const signals: AbortSignal[] = [];

/** A registry with tools registered in code (discovery is not needed for these tests). */
function registry(): ToolRegistry {
  const tools = new ToolRegistry();
  // A raw JSON Schema: the arguments reach the handler as the model sent them.
  tools.register(
    { name: 'echo', description: 'echo', parameters: { type: 'object', properties: {} } },
    (args) => ({ echoed: args }),
  );
  tools.register({ name: 'fails', description: 'fails' }, () => {
    throw new Error('no such order');
  });
  tools.register({ name: 'slow', description: 'slow' }, () => new Promise(() => undefined));
  tools.register({ name: 'later', description: 'later' }, async () => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    return 'done later';
  });
  // Results JSON cannot represent: a method returned uncalled, a value whose toJSON gives nothing.
  tools.register({ name: 'uncalled', description: 'uncalled' }, () => Math.max);
  tools.register({ name: 'unloaded', description: 'unloaded' }, () => ({
    toJSON: () => undefined,
  }));
  // As end_call: ends the call, and its output tells the model to say goodbye.
  tools.register(
    { name: 'ends', description: 'ends' },
    () => new Promise((resolve) => setTimeout(() => resolve({ ok: true }), 30)),
    'the bridge',
    { announcesEnding: true },
  );
  // 64 KiB and one byte of output, in a string and as JSON.
  tools.register({ name: 'dumps', description: 'dumps' }, () => 'x'.repeat(64 * 1024 + 1));
  tools.register({ name: 'exports', description: 'exports' }, () => ({
    rows: 'é'.repeat(32 * 1024),
  }));
  tools.register({ name: 'waits', description: 'waits' }, (_args, _call, signal) => {
    signals.push(signal);
    return new Promise(() => undefined);
  });
  return tools;
}

const call = (name: string, callId: string, args = '{}', responseId = 'resp_1'): FunctionCall => ({
  response_id: responseId,
  call_id: callId,
  name,
  arguments: args,
});

function coordinator(timeoutMs = 1000, offered?: string[]) {
  const outputs: ToolCallResult[] = [];
  let continued = 0;
  const context = { callSid: 'CA1' } as CallContext;
  const tools = new ToolCallCoordinator(
    registry(),
    context,
    { toolTimeoutMs: timeoutMs },
    {
      sendOutput: (result) => outputs.push(result),
      continueResponse: () => continued++,
    },
    { tools: offered },
  );
  return { tools, outputs, continued: () => continued };
}

async function settled(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(predicate()).toBe(true);
}

describe('ToolCallCoordinator', () => {
  // The registry logs each tool it registers; not wanted in a unit test's output.
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('answers a tool no longer offered after offer() with an error, and runs the newly offered one', async () => {
    const { tools, outputs } = coordinator(1000, ['later']);
    tools.offer(['echo']);
    tools.onFunctionCall(call('later', 'c1'));
    tools.onFunctionCall(call('echo', 'c2', '{"a":1}'));
    await settled(() => outputs.length === 2);
    const byId = Object.fromEntries(outputs.map((o) => [o.call.call_id, o]));
    expect(byId.c1).toMatchObject({
      ok: false,
      output: JSON.stringify({ error: 'tool "later" is not available on this call' }),
    });
    expect(byId.c2).toMatchObject({ ok: true, output: JSON.stringify({ echoed: { a: 1 } }) });
  });

  it('refuses to offer a tool that is not registered, naming it and keeping the offer as it was', () => {
    const { tools, outputs } = coordinator(1000, ['echo']);
    expect(() => tools.offer(['echo', 'refund'])).toThrow(
      'no registered tool is named "refund" (registered: echo, fails, slow, later, uncalled, unloaded, ends, dumps, exports, waits)',
    );
    tools.onFunctionCall(call('echo', 'c1'));
    return settled(() => outputs.length === 1 && outputs[0].ok);
  });

  it('answers a tool the call was not offered with an error, and still asks the model to go on', async () => {
    const { tools, outputs, continued } = coordinator(1000, ['echo']);
    tools.onFunctionCall(call('later', 'c1'));
    tools.onResponseDone('resp_1', []);
    await settled(() => continued() === 1);
    expect(outputs).toMatchObject([
      {
        ok: false,
        output: JSON.stringify({ error: 'tool "later" is not available on this call' }),
      },
    ]);
  });

  it('runs a call reported by several events exactly once, with parsed arguments', async () => {
    const { tools, outputs } = coordinator();
    tools.onFunctionCall(call('echo', 'c1', '{"id":7}'));
    tools.onFunctionCall(call('echo', 'c1', '{"id":7}'));
    tools.onResponseDone('resp_1', [call('echo', 'c1', '{"id":7}')]);
    await settled(() => outputs.length === 1);
    expect(outputs[0]).toMatchObject({
      ok: true,
      arguments: { id: 7 },
      output: '{"echoed":{"id":7}}',
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(outputs).toHaveLength(1);
  });

  it('asks the model to go on once the response is done and every output is sent', async () => {
    const { tools, outputs, continued } = coordinator();
    tools.onFunctionCall(call('echo', 'c1'));
    tools.onFunctionCall(call('later', 'c2'));
    await settled(() => outputs.length === 1);
    expect(continued()).toBe(0);
    tools.onResponseDone('resp_1', []);
    expect(continued()).toBe(0);
    await settled(() => outputs.length === 2);
    expect(continued()).toBe(1);
    expect(tools.busy).toBe(false);
  });

  it('says a call that announces the ending is running only while it runs', async () => {
    const { tools, outputs } = coordinator();
    tools.onFunctionCall(call('later', 'c1'));
    expect(tools.announcesEnding).toBe(false);
    tools.onFunctionCall(call('ends', 'c2'));
    expect(tools.announcesEnding).toBe(true);
    await settled(() => outputs.length === 2);
    expect(tools.announcesEnding).toBe(false);
  });

  it('sends the outputs of calls running when the last sentence is asked for, without asking the model to go on', async () => {
    const { tools, outputs, continued } = coordinator();
    tools.onFunctionCall(call('later', 'c1', '{}', 'resp_1'));
    tools.onResponseDone('resp_1', []);
    tools.dropContinuations('resp_2');
    tools.onResponseDone('resp_2', [call('echo', 'c2', '{}', 'resp_2')]);
    await settled(() => outputs.length === 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(continued()).toBe(0);
    // A later response (the call went on after all) is continued as usual.
    tools.onResponseDone('resp_3', [call('echo', 'c3', '{}', 'resp_3')]);
    await settled(() => continued() === 1);
  });

  it("asks the model to go on once a lost session's calls are answered, though its response.done never came", async () => {
    const { tools, outputs, continued } = coordinator();
    tools.onFunctionCall(call('later', 'c1', '{}', 'resp_lost'));
    // The session was replaced before response.done: the new one answers.
    expect(tools.onSessionReplaced()).toBe(true);
    expect(continued()).toBe(0);
    await settled(() => outputs.length === 1 && continued() === 1);
    // Answered already (before the session went): the new session is asked at once.
    tools.onFunctionCall(call('echo', 'c2', '{}', 'resp_lost_2'));
    await settled(() => outputs.length === 2);
    expect(tools.onSessionReplaced()).toBe(true);
    expect(continued()).toBe(2);
    expect(tools.onSessionReplaced()).toBe(false);
  });

  it('does not continue a response that carried no calls', () => {
    const { tools, continued } = coordinator();
    tools.onResponseDone('resp_plain', []);
    expect(continued()).toBe(0);
  });

  it('runs calls found only in response.done', async () => {
    const { tools, outputs, continued } = coordinator();
    tools.onResponseDone('resp_1', [call('echo', 'c9')]);
    await settled(() => continued() === 1);
    expect(outputs.map((o) => o.call.call_id)).toEqual(['c9']);
  });

  it.each([
    ['an unknown tool', call('nope', 'c1'), /unknown tool \\"nope/],
    ['arguments that are not a JSON object', call('echo', 'c1', '[1,2'), /not a JSON object/],
    ['a handler that throws', call('fails', 'c1'), /no such order/],
  ])('answers %s with an error output', async (_what, fc, message) => {
    const { tools, outputs } = coordinator();
    tools.onFunctionCall(fc);
    await settled(() => outputs.length === 1);
    expect(outputs[0].ok).toBe(false);
    expect(outputs[0].output).toMatch(message);
  });

  it.each([
    ['a function', 'uncalled', 'function'],
    ['an object whose toJSON gives undefined', 'unloaded', 'object'],
  ])(
    'answers a result JSON cannot represent (%s) with an error output, not an item without one',
    async (_what, name, type) => {
      const { tools, outputs } = coordinator();
      tools.onFunctionCall(call(name, 'c1'));
      await settled(() => outputs.length === 1);
      expect(outputs[0]).toMatchObject({
        ok: false,
        output: JSON.stringify({
          error: `tool ${name} returned a value JSON cannot represent (${type})`,
        }),
      });
    },
  );

  it.each([
    ['dumps', 65_537],
    ['exports', 65_547],
  ])(
    'answers an output over 64 KiB (%s) with an error output naming its size',
    async (name, bytes) => {
      const { tools, outputs } = coordinator();
      tools.onFunctionCall(call(name, 'c1'));
      await settled(() => outputs.length === 1);
      expect(outputs[0]).toMatchObject({
        ok: false,
        output: JSON.stringify({
          error: `tool ${name} returned ${bytes} bytes, over the limit of 65536`,
        }),
      });
    },
  );

  it.each([
    ['an unknown tool', call('nope', 'c1', '{"order":42}'), { order: 42 }],
    ['a tool not offered on this call', call('later', 'c1', '{"when":"now"}'), { when: 'now' }],
    ['arguments that are not a JSON object', call('echo', 'c1', '[1,2'), '[1,2'],
  ])(
    'keeps the arguments of %s for the record, as the model sent them',
    async (_what, fc, args) => {
      const { tools, outputs } = coordinator(1000, ['echo', 'nope']);
      tools.onFunctionCall(fc);
      await settled(() => outputs.length === 1);
      expect(outputs[0]).toMatchObject({ ok: false, arguments: args });
    },
  );

  it('refuses a call whose arguments were over the bound with an error output, never running it', async () => {
    const { tools, outputs, continued } = coordinator();
    let ran = 0;
    const oversized = { ...call('echo', 'c1'), oversizedArgumentsBytes: 1_000_000 };
    tools.onFunctionCall(oversized);
    tools.onResponseDone('resp_1', []);
    await settled(() => continued() === 1);
    ran += outputs.filter((o) => o.ok).length;
    expect(ran).toBe(0);
    expect(outputs[0].arguments).toBeUndefined();
    expect(outputs[0].output).toMatch(/1000000 bytes, over the limit of \d+; the tool was not run/);
  });

  it('answers a handler that never settles with a timeout error', async () => {
    const { tools, outputs } = coordinator(40);
    tools.onFunctionCall(call('slow', 'c1'));
    expect(tools.busy).toBe(true);
    await settled(() => outputs.length === 1);
    expect(outputs[0]).toMatchObject({ ok: false });
    expect(outputs[0].output).toMatch(/did not answer within 40 ms/);
  });

  it("aborts a handler's signal when the model stops waiting for it", async () => {
    const { tools, outputs } = coordinator(40);
    const before = signals.length;
    tools.onFunctionCall(call('waits', 'c1'));
    await settled(() => signals.length === before + 1);
    const signal = signals.at(-1)!;
    expect(signal.aborted).toBe(false);
    await settled(() => outputs.length === 1);
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('the tool did not answer within 40 ms');
  });

  it("aborts every running handler's signal when the call ends", async () => {
    const { tools } = coordinator();
    const before = signals.length;
    tools.onFunctionCall(call('waits', 'c1'));
    tools.onFunctionCall(call('waits', 'c2'));
    await settled(() => signals.length === before + 2);
    const running = signals.slice(-2);
    tools.dispose();
    expect(running.map((signal) => signal.aborted)).toEqual([true, true]);
    expect((running[0].reason as Error).message).toBe('the call ended');
  });

  it('clears the timer of a handler that ignores its signal when the call ends', () => {
    jest.useFakeTimers();
    try {
      const { tools } = coordinator(300_000);
      tools.onFunctionCall(call('waits', 'c1'));
      expect(jest.getTimerCount()).toBe(1);
      tools.dispose();
      // Nothing of the call waits out TOOL_TIMEOUT_MS (a team's Jest run would hang that long).
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps what a handler threw for the log, and sends the model only its message', async () => {
    const { tools, outputs } = coordinator(40);
    tools.onFunctionCall(call('fails', 'c1'));
    tools.onFunctionCall(call('slow', 'c2'));
    await settled(() => outputs.length === 2);
    const [thrown, late] = outputs;
    expect(thrown.output).toBe('{"error":"no such order"}');
    expect(thrown.thrown?.stack).toContain('no such order');
    // The bridge's own verdicts (a timeout, invalid arguments) are not the handler's errors.
    expect(late.thrown).toBeUndefined();
  });

  it('sends nothing once disposed (the call ended)', async () => {
    const { tools, outputs, continued } = coordinator();
    tools.onFunctionCall(call('later', 'c1'));
    tools.onResponseDone('resp_1', []);
    tools.dispose();
    await new Promise((r) => setTimeout(r, 60));
    expect(outputs).toEqual([]);
    expect(continued()).toBe(0);
  });
});
