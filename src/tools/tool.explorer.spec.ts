import { Injectable, Logger, Scope, type INestApplicationContext } from '@nestjs/common';
import { ContextIdFactory, DiscoveryModule, ModuleRef } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { z } from 'zod';
import { CallContext } from '../call/call-context.js';
import { CallContextModule } from '../call/call-context.module.js';
import { CallStart } from '../call/call-start.js';
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
});
