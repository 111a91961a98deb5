import { Logger } from '@nestjs/common';
import { z } from 'zod';
import type { CallContext } from '../call/call-context.js';
import {
  MAX_TOOL_DEFINITION_BYTES,
  MAX_TOOLS,
  MAX_TOOLS_BYTES,
} from '../realtime/session-bounds.js';
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

  describe('bounds on what every session.update carries', () => {
    const EMPTY = { type: 'object', properties: {} };
    /** A tool whose definition, as session.update lists it, is exactly `bytes` of JSON. */
    const toolOf = (name: string, bytes: number) => {
      const bare = JSON.stringify({ type: 'function', name, description: '', parameters: EMPTY });
      return { name, description: 'x'.repeat(bytes - bare.length), parameters: EMPTY };
    };
    const sessionBytes = (only?: string[]) =>
      registry.sessionTools(only).map((tool) => JSON.stringify(tool).length);

    it(`takes ${MAX_TOOLS} tools and refuses one more, naming it and the bound`, () => {
      for (let i = 0; i < MAX_TOOLS; i++) {
        registry.register({ name: `t${i}`, description: 'x' }, () => 1, `Many.t${i}`);
      }
      expect(registry.names()).toHaveLength(MAX_TOOLS);
      expect(() =>
        registry.register({ name: 'one_more', description: 'x' }, () => 1, 'Many.oneMore'),
      ).toThrow(
        `Realtime tool "one_more" (Many.oneMore) would be tool number ${MAX_TOOLS + 1}: at most ` +
          `${MAX_TOOLS} tools may be registered (MAX_TOOLS), the bridge's end_call and transfer_call included`,
      );
    });

    it(`takes a definition of ${MAX_TOOL_DEFINITION_BYTES} bytes and refuses one byte more`, () => {
      registry.register(toolOf('at_bound', MAX_TOOL_DEFINITION_BYTES), () => 1, 'Big.at');
      expect(sessionBytes()).toEqual([MAX_TOOL_DEFINITION_BYTES]);
      expect(() =>
        registry.register(toolOf('over', MAX_TOOL_DEFINITION_BYTES + 1), () => 1, 'Big.over'),
      ).toThrow(
        `Realtime tool "over" (Big.over): its definition (name, description and parameters as ` +
          `JSON) is 16,385 bytes, over MAX_TOOL_DEFINITION_BYTES (16,384)`,
      );
    });

    it('refuses a 5 MB parameters schema, naming the tool', () => {
      const properties = Object.fromEntries(
        Array.from({ length: 50_000 }, (_, i) => [
          `field_${i}`,
          { type: 'string', description: 'x'.repeat(70) },
        ]),
      );
      expect(() =>
        registry.register(
          { name: 'huge', description: 'x', parameters: { type: 'object', properties } },
          () => 1,
          'Generated.huge',
        ),
      ).toThrow(
        /^Realtime tool "huge" \(Generated\.huge\): its definition .* is 5,\d{3},\d{3} bytes, over/,
      );
      expect(registry.names()).toEqual([]);
    });

    it(`takes definitions of ${MAX_TOOLS_BYTES} bytes in all and refuses one more, naming the largest`, () => {
      const each = MAX_TOOLS_BYTES / 8;
      for (let i = 0; i < 8; i++) registry.register(toolOf(`t${i}`, each), () => 1, `Wide.t${i}`);
      expect(sessionBytes().reduce((a, b) => a + b)).toBe(MAX_TOOLS_BYTES);
      expect(() =>
        registry.register({ name: 'small', description: 'x' }, () => 1, 'Wide.small'),
      ).toThrow(
        `Realtime tool "small" (Wide.small) would bring the registered tools' definitions to ` +
          `131,171 bytes, over MAX_TOOLS_BYTES (131,072), which every call offered them all ` +
          `sends in its session.update; the largest: t0 (Wide.t0, 16,384 bytes), t1 (Wide.t1, ` +
          `16,384 bytes), t2 (Wide.t2, 16,384 bytes)`,
      );
    });

    it('refuses parameters that cannot be sent as JSON (a cycle), naming the tool', () => {
      const parameters: Record<string, unknown> = { type: 'object' };
      parameters.properties = { self: parameters };
      expect(() =>
        registry.register({ name: 'loop', description: 'x', parameters }, () => 1, 'Raw.loop'),
      ).toThrow(
        /^Realtime tool "loop" \(Raw\.loop\): its definition cannot be sent as JSON: .*circular/,
      );
    });
  });
});
