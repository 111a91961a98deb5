import { Injectable } from '@nestjs/common';
import { ContextIdFactory, ModuleRef } from '@nestjs/core';
import { CallSession } from './call-session.js';
import { LiveCallContext } from './live-call-context.js';

export interface NewCall {
  callSid: string;
  streamSid: string;
  accountSid: string;
  customParameters: Record<string, string>;
}

/**
 * Creates one CallSession per call in a DI context of its own: once per call, never per frame.
 * The call's CallContext is registered as that context's "request", so every request-scoped
 * provider resolved in it (the session, and any per-call provider another module declares) can
 * inject it.
 */
@Injectable()
export class CallSessionFactory {
  constructor(private readonly moduleRef: ModuleRef) {}

  async create(call: NewCall): Promise<CallSession> {
    const contextId = ContextIdFactory.create();
    const context = new LiveCallContext(contextId, call, (type, id) =>
      this.moduleRef.resolve(type, id, { strict: false }),
    );
    this.moduleRef.registerRequestByContextId(context, contextId);
    return this.moduleRef.resolve(CallSession, contextId, { strict: false });
  }
}
