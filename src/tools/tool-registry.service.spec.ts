import { Logger } from '@nestjs/common';
import { z } from 'zod';
import type { CallContext } from '../call/call-context.js';
import { InvalidToolArgumentsError, ToolRegistry } from './tool-registry.service.js';

// The handlers here never touch the call; any access would fail the test.
const call = new Proxy({} as CallContext, {
  get: (_target, key) => {
    throw new Error(`unexpected CallContext.${String(key)}`);
  },
});

describe('ToolRegistry', () => {
  let registry: ToolRegistry;
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  beforeEach(() => (registry = new ToolRegistry()));

  it('runs the handler with validated, typed arguments', async () => {
    registry.register(
      { name: 'add', description: 'Adds', parameters: z.object({ a: z.number(), b: z.number() }) },
      ({ a, b }) => a + b,
    );
    await expect(
      registry.get('add')!.invoke({ a: 2, b: 3 }, call, new AbortController().signal),
    ).resolves.toBe(5);
  });

  it('rejects invalid arguments with a message for the model, without calling the handler', async () => {
    let calls = 0;
    registry.register(
      { name: 'add', description: 'Adds', parameters: z.object({ a: z.number() }) },
      () => ++calls,
    );
    const result = registry.get('add')!.invoke({ a: 'two' }, call, new AbortController().signal);
    await expect(result).rejects.toBeInstanceOf(InvalidToolArgumentsError);
    await expect(result).rejects.toThrow(
      /^invalid arguments for add: a: Invalid input: expected number, received string\. Call add again/,
    );
    expect(calls).toBe(0);
  });

  it('lists tools in the shape session.update takes', () => {
    registry.register({ name: 'ping', description: 'Pings' }, () => 'pong');
    expect(registry.sessionTools()).toEqual([
      {
        type: 'function',
        name: 'ping',
        description: 'Pings',
        parameters: { type: 'object', properties: {} },
      },
    ]);
  });

  it('refuses a second tool of the same name, naming both', () => {
    registry.register({ name: 'ping', description: 'Pings' }, () => 'pong', 'A.ping');
    expect(() =>
      registry.register({ name: 'ping', description: 'Pings' }, () => 'pong', 'B.ping'),
    ).toThrow('Two Realtime tools are named "ping": A.ping and B.ping');
  });

  it('refuses a bad name, a missing description and unusable parameters, naming the tool', () => {
    expect(() =>
      registry.register({ name: 'no spaces', description: 'x' }, () => 1, 'A.x'),
    ).toThrow(/"no spaces" \(A\.x\) must match/);
    expect(() => registry.register({ name: 'quiet', description: ' ' }, () => 1, 'A.q')).toThrow(
      /"quiet" \(A\.q\) needs a description/,
    );
    expect(() =>
      registry.register({ name: 'list', description: 'x', parameters: { type: 'array' } }, () => 1),
    ).toThrow(/"list" \(the bridge\): parameters must describe an object/);
  });
});
