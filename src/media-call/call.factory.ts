import { Injectable } from '@nestjs/common';
import { ContextIdFactory, ModuleRef } from '@nestjs/core';
import type WebSocket from 'ws';
import { CallOrchestrator } from './call-orchestrator.js';
import { CallStart } from '../call/call-start.js';

export interface NewCall {
  callSid: string;
  streamSid: string;
  accountSid: string;
  customParameters: Record<string, string>;
  /** The caller's Twilio media socket, whose `start` was accepted. */
  socket: WebSocket;
}

/**
 * Creates one call per call in a DI context of its own: once per call, never per frame. The
 * call's CallStart (who it is, and the caller's socket) is registered as that context's
 * "request", so every request-scoped provider resolved in it (the orchestrator, its links,
 * scheduler, ending and recorder, and any per-call provider another module declares) is created
 * once for this call, whole, and can inject its CallContext.
 */
@Injectable()
export class CallFactory {
  constructor(private readonly moduleRef: ModuleRef) {}

  async create(call: NewCall): Promise<CallOrchestrator> {
    const contextId = ContextIdFactory.create();
    const start = new CallStart(contextId, call, call.socket);
    this.moduleRef.registerRequestByContextId(start, contextId);
    return this.moduleRef.resolve(CallOrchestrator, contextId, { strict: false });
  }
}
