import { Injectable } from '@nestjs/common';
import { ContextIdFactory, ModuleRef } from '@nestjs/core';
import { CallOrchestrator } from './call-orchestrator.js';
import { LiveCallContext } from './live-call-context.js';

export interface NewCall {
  callSid: string;
  streamSid: string;
  accountSid: string;
  customParameters: Record<string, string>;
}

/**
 * Creates one call per call in a DI context of its own: once per call, never per frame. The
 * call's CallContext is registered as that context's "request", so every request-scoped provider
 * resolved in it (the orchestrator, its links, scheduler, ending and recorder, and any per-call
 * provider another module declares) is created once for this call and can inject it.
 */
@Injectable()
export class CallFactory {
  constructor(private readonly moduleRef: ModuleRef) {}

  async create(call: NewCall): Promise<CallOrchestrator> {
    const contextId = ContextIdFactory.create();
    const context = new LiveCallContext(contextId, call, (type, id) =>
      this.moduleRef.resolve(type, id, { strict: false }),
    );
    this.moduleRef.registerRequestByContextId(context, contextId);
    return this.moduleRef.resolve(CallOrchestrator, contextId, { strict: false });
  }
}
