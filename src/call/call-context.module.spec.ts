import { Injectable, Scope } from '@nestjs/common';
import { ContextIdFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { CallContext } from './call-context.js';
import { CallContextModule } from './call-context.module.js';
import { LiveCallContext } from './live-call-context.js';

@Injectable({ scope: Scope.REQUEST })
class NeedsTheCall {
  constructor(readonly call: CallContext) {}
}

describe('CallContextModule', () => {
  async function compile() {
    const moduleRef = await Test.createTestingModule({
      imports: [CallContextModule],
      providers: [NeedsTheCall],
    }).compile();
    moduleRef.useLogger(false);
    return moduleRef;
  }

  it("injects the call's own context into a per-call provider", async () => {
    const moduleRef = await compile();
    const contextId = ContextIdFactory.create();
    const call = new LiveCallContext(
      contextId,
      { callSid: 'CA1', streamSid: 'MZ1', accountSid: 'AC1', customParameters: { From: '+1' } },
      () => Promise.reject(new Error('not used')),
    );
    moduleRef.registerRequestByContextId(call, contextId);
    const provider = await moduleRef.resolve(NeedsTheCall, contextId);
    expect(provider.call).toBe(call);
    expect(provider.call.from).toBe('+1');
  });

  it('refuses to resolve it outside a call, rather than inject something else', async () => {
    const moduleRef = await compile();
    const contextId = ContextIdFactory.create();
    moduleRef.registerRequestByContextId({ method: 'GET', url: '/api/calls' }, contextId);
    await expect(moduleRef.resolve(NeedsTheCall, contextId)).rejects.toThrow(
      /CallContext is only available to per-call providers resolved for a call/,
    );
  });
});
