import { Injectable, Scope } from '@nestjs/common';
import { ContextIdFactory, ModuleRef } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import { CallContext } from './call-context.js';
import { CallContextModule } from './call-context.module.js';
import { CallLogger } from './call-logger.js';
import { CallScope, type CallOwner } from './call-scope.js';
import { CallStart } from './call-start.js';

@Injectable({ scope: Scope.REQUEST })
class NeedsTheCall {
  constructor(
    readonly call: CallContext,
    readonly scope: CallScope,
    readonly log: CallLogger,
  ) {}
}

/** A call's owner as the bridge's orchestrators are: it registers with the scope when built. */
@Injectable({ scope: Scope.REQUEST })
class Owner implements CallOwner {
  readonly ended: string[] = [];
  readonly closed: string[] = [];
  readonly transcript = [{ role: 'caller' as const, text: 'hello', at: new Date(0) }];

  constructor(scope: CallScope) {
    scope.own(this);
  }

  fail(reason: string): boolean {
    this.closed.push(`failed: ${reason}`);
    return true;
  }

  close(reason: string): void {
    this.closed.push(reason);
  }

  end(reason: string): void {
    this.ended.push(reason);
  }

  transfer(): void {}
  updateSession(): void {}
  say(): void {}
}

describe('CallContextModule', () => {
  let moduleRef: TestingModule;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [CallContextModule],
      providers: [NeedsTheCall, Owner],
    }).compile();
    moduleRef.useLogger(false);
  });

  /** A call's DI context, as CallFactory makes one. */
  function startCall(callSid = 'CA1') {
    const contextId = ContextIdFactory.create();
    const start = new CallStart(contextId, {
      callSid,
      streamSid: 'MZ1',
      accountSid: 'AC1',
      customParameters: { From: '+1' },
    });
    moduleRef.registerRequestByContextId(start, contextId);
    return <T>(type: abstract new (...args: never[]) => T) =>
      moduleRef.get(ModuleRef).resolve(type, contextId, { strict: false });
  }

  it("injects the call's own context into a per-call provider", async () => {
    const provider = await startCall()(NeedsTheCall);
    expect(provider.call.callSid).toBe('CA1');
    expect(provider.call.from).toBe('+1');
    expect(provider.call.transport).toBe('media');
  });

  it('gives every part of one call the same context, scope and logger, and another call others', async () => {
    const first = startCall('CA1');
    const [a, b] = [await first(NeedsTheCall), await first(CallContext)];
    const other = await startCall('CA2')(NeedsTheCall);
    expect(b).toBe(a.call);
    expect(a.scope.callSid).toBe('CA1');
    expect(other.call).not.toBe(a.call);
    expect(other.scope).not.toBe(a.scope);
    expect(other.log).not.toBe(a.log);
  });

  it("reaches the call's owner through its scope once the owner is built, and not before", async () => {
    const resolve = startCall();
    const { call, scope } = await resolve(NeedsTheCall);
    expect(() => call.end('bye')).toThrow('call CA1 has no session yet');
    expect(call.transcript).toEqual([]);
    expect(scope.fail('internal error')).toBe(false);

    const owner = await resolve(Owner);
    call.end('bye');
    expect(owner.ended).toEqual(['bye']);
    expect(call.transcript).toBe(owner.transcript);
    scope.close('done', 'log', 'completed');
    expect(scope.fail('internal error')).toBe(true);
    expect(owner.closed).toEqual(['done', 'failed: internal error']);
  });

  it('runs a handler in the call, and a throw there fails the call only', async () => {
    const resolve = startCall();
    const { scope } = await resolve(NeedsTheCall);
    const owner = await resolve(Owner);
    let current: string | undefined;
    scope.run(() => (current = CallScope.current()?.callSid));
    scope.run(() => {
      throw new Error('a bug');
    });
    expect(current).toBe('CA1');
    expect(owner.closed).toEqual(['failed: internal error']);
  });

  it('keeps the right call when runs nest: the same call again, another call, and back', async () => {
    const first = (await startCall('CA1')(NeedsTheCall)).scope;
    const second = (await startCall('CA2')(NeedsTheCall)).scope;
    const seen: (string | undefined)[] = [];
    const look = (): void => {
      seen.push(CallScope.current()?.callSid);
    };
    let later: Promise<void> | undefined;
    first.run(() => {
      first.run(look);
      second.run(() => {
        look();
        second.run(look);
      });
      look();
      // What a handler starts (here a promise continuation) carries its call.
      later = new Promise<void>((resolve) => setImmediate(resolve)).then(look);
    });
    look();
    await later;
    expect(seen).toEqual(['CA1', 'CA2', 'CA2', 'CA1', undefined, 'CA1']);
  });

  it('refuses a second owner for one call', async () => {
    const resolve = startCall();
    const { scope } = await resolve(NeedsTheCall);
    await resolve(Owner);
    expect(() => scope.own({} as CallOwner)).toThrow('call CA1 already has an owner');
  });

  it('refuses to resolve it outside a call, rather than inject something else', async () => {
    const contextId = ContextIdFactory.create();
    moduleRef.registerRequestByContextId({ method: 'GET', url: '/api/calls' }, contextId);
    await expect(moduleRef.resolve(NeedsTheCall, contextId)).rejects.toThrow(
      /CallContext is only available to per-call providers resolved for a call/,
    );
  });
});
