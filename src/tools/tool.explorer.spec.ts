import { Inject, Injectable, Logger, Scope, type INestApplicationContext } from '@nestjs/common';
import { ContextIdFactory, DiscoveryModule, ModuleRef } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { z } from 'zod';
import { CallContext } from '../call/call-context.js';
import { CallContextModule } from '../call/call-context.module.js';
import { CallStart } from '../call/call-start.js';
import { MAX_TOOLS } from '../realtime/session-bounds.js';
import { RealtimeTool } from './realtime-tool.decorator.js';
import { ToolRegistry } from './tool-registry.service.js';
import { ToolExplorer } from './tool.explorer.js';

@Injectable()
class Counter {
  private count = 0;
  @RealtimeTool({ name: 'count', description: 'Counts', parameters: z.object({ by: z.number() }) })
  add({ by }: { by: number }) {
    return (this.count += by);
  }
}

@Injectable({ scope: Scope.REQUEST })
class PerCallNotes {
  static created = 0;
  private readonly notes: string[] = [];
  constructor(private readonly call: CallContext) {
    PerCallNotes.created++;
  }
  @RealtimeTool({ name: 'note', description: 'Notes', parameters: z.object({ text: z.string() }) })
  note({ text }: { text: string }) {
    this.notes.push(text);
    return { callSid: this.call.callSid, notes: this.notes };
  }
}

@Injectable({ scope: Scope.TRANSIENT })
class TransientTools {
  @RealtimeTool({ name: 'nope', description: 'Cannot work' })
  nope() {
    return 1;
  }
}

async function start(providers: Parameters<typeof Test.createTestingModule>[0]['providers']) {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule, CallContextModule],
    providers: [ToolRegistry, ToolExplorer, ...(providers ?? [])],
  }).compile();
  moduleRef.useLogger(false);
  return moduleRef.init();
}

/** A call as the bridge makes one: its own DI context, whose "request" is its CallStart. */
async function callIn(app: INestApplicationContext, callSid: string): Promise<CallContext> {
  const moduleRef = app.get(ModuleRef);
  const contextId = ContextIdFactory.create();
  const start = new CallStart(contextId, {
    callSid,
    streamSid: `MZ${callSid}`,
    accountSid: 'AC1',
    customParameters: {},
  });
  moduleRef.registerRequestByContextId(start, contextId);
  return moduleRef.resolve(CallContext, contextId, { strict: false });
}

const signal = new AbortController().signal;

describe('ToolExplorer', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it("runs a singleton's tool on its one instance", async () => {
    const app = await start([Counter]);
    const tool = app.get(ToolRegistry).get('count')!;
    const call = await callIn(app, 'CA1');
    await tool.invoke({ by: 2 }, call, signal);
    await expect(tool.invoke({ by: 3 }, call, signal)).resolves.toBe(5);
    expect(tool.source).toBe('Counter.add');
    await app.close();
  });

  it("runs a per-call provider's tool on that call's instance, created once per call", async () => {
    PerCallNotes.created = 0;
    // Under a token of its own, to show the provider is found through its module, not its class.
    const app = await start([{ provide: 'NOTES', useClass: PerCallNotes, scope: Scope.REQUEST }]);
    const tool = app.get(ToolRegistry).get('note')!;
    const [a, b] = await Promise.all([callIn(app, 'CA_A'), callIn(app, 'CA_B')]);
    await tool.invoke({ text: 'one' }, a, signal);
    await expect(tool.invoke({ text: 'two' }, a, signal)).resolves.toEqual({
      callSid: 'CA_A',
      notes: ['one', 'two'],
    });
    await expect(tool.invoke({ text: 'three' }, b, signal)).resolves.toEqual({
      callSid: 'CA_B',
      notes: ['three'],
    });
    expect(PerCallNotes.created).toBe(2);
    await app.close();
  });

  it('lists a tool once when its provider is also registered under an alias', async () => {
    const app = await start([Counter, { provide: 'COUNTER', useExisting: Counter }]);
    expect(
      app
        .get(ToolRegistry)
        .sessionTools()
        .map((tool) => (tool.type === 'function' ? tool.name : tool.type)),
    ).toEqual(['count']);
    await app.close();
  });

  it('refuses, at start-up, a tool on a transient provider', async () => {
    await expect(start([TransientTools])).rejects.toThrow(
      /"nope" is on TransientTools\.nope, a transient provider.*Scope\.REQUEST/,
    );
  });

  it("runs a singleton factory provider's tool on the instance the factory made", async () => {
    const app = await start([
      { provide: Counter, useFactory: () => Promise.resolve(new Counter()) },
    ]);
    const tool = app.get(ToolRegistry).get('count')!;
    await expect(tool.invoke({ by: 4 }, await callIn(app, 'CA1'), signal)).resolves.toBe(4);
    await app.close();
  });

  // What a per-call factory makes is known only when it runs (it need not be a PerCallNotes):
  // its class's tools are refused with what to do instead, never dropped in silence.
  it.each([
    ['Scope.REQUEST', { scope: Scope.REQUEST }],
    ['a per-call dependency', {}],
  ])('refuses, at start-up, a tool on a factory provider per call by %s', async (_, scope) => {
    const factory = {
      provide: PerCallNotes,
      useFactory: (call: CallContext) => Promise.resolve(new PerCallNotes(call)),
      inject: [CallContext],
      ...scope,
    };
    await expect(start([factory])).rejects.toThrow(
      /"note" is on PerCallNotes\.note, but PerCallNotes is provided by a per-call factory \(useFactory\).*Provide PerCallNotes as a class/,
    );
  });

  it('refuses, at start-up, a tool on a transient factory provider', async () => {
    const factory = { provide: Counter, useFactory: () => new Counter(), scope: Scope.TRANSIENT };
    await expect(start([factory])).rejects.toThrow(
      /"count" is on Counter\.add, but Counter is provided by a transient factory/,
    );
  });

  it("runs the tool of a per-call class that injects what a per-call factory made (the docs' way)", async () => {
    @Injectable({ scope: Scope.REQUEST })
    class Lookup {
      constructor(@Inject('CLIENT') private readonly client: { callSid: string }) {}
      @RealtimeTool({ name: 'lookup', description: 'Looks up' })
      lookup() {
        return this.client.callSid;
      }
    }
    const app = await start([
      Lookup,
      {
        provide: 'CLIENT',
        scope: Scope.REQUEST,
        useFactory: (call: CallContext) => Promise.resolve({ callSid: call.callSid }),
        inject: [CallContext],
      },
    ]);
    const tool = app.get(ToolRegistry).get('lookup')!;
    await expect(tool.invoke({}, await callIn(app, 'CA_L'), signal)).resolves.toBe('CA_L');
    await app.close();
  });

  it('leaves alone a singleton factory that made nothing, and a per-call one under a string token', async () => {
    const app = await start([
      { provide: Counter, useFactory: () => null },
      { provide: 'NOTES', useFactory: () => ({}), scope: Scope.REQUEST },
    ]);
    expect(app.get(ToolRegistry).names()).toEqual([]);
    await app.close();
  });

  it('refuses, at start-up, two tools of the same name on different providers', async () => {
    @Injectable()
    class OtherCounter {
      @RealtimeTool({ name: 'count', description: 'Also counts' })
      count() {
        return 0;
      }
    }
    await expect(start([Counter, OtherCounter])).rejects.toThrow(
      /Two Realtime tools are named "count": (Counter\.add and OtherCounter\.count|OtherCounter\.count and Counter\.add)/,
    );
  });

  it('refuses, at start-up, a module of 2,000 tools at the first one past MAX_TOOLS, naming it', async () => {
    @Injectable()
    class GeneratedTools {}
    for (let i = 0; i < 2000; i++) {
      const key = `tool${i}`;
      const method = () => i;
      Object.defineProperty(GeneratedTools.prototype, key, { value: method, configurable: true });
      RealtimeTool({ name: `generated_${i}`, description: 'A generated tool' })(
        GeneratedTools.prototype,
        key,
        { value: method },
      );
    }
    await expect(start([GeneratedTools])).rejects.toThrow(
      `Realtime tool "generated_${MAX_TOOLS}" (GeneratedTools.tool${MAX_TOOLS}) would be tool number ${MAX_TOOLS + 1}`,
    );
  });

  it('refuses, at start-up, a tool whose schema makes a 5 MB definition, naming its provider', async () => {
    const properties = Object.fromEntries(
      Array.from({ length: 50_000 }, (_, i) => [
        `f${i}`,
        { type: 'string', enum: ['x'.repeat(80)] },
      ]),
    );
    @Injectable()
    class Catalogue {
      @RealtimeTool({
        name: 'order',
        description: 'Orders',
        parameters: { type: 'object', properties },
      })
      order() {
        return 1;
      }
    }
    await expect(start([Catalogue])).rejects.toThrow(
      /^Realtime tool "order" \(Catalogue\.order\): its definition .* is 5,\d{3},\d{3} bytes, over MAX_TOOL_DEFINITION_BYTES/,
    );
  });
});
