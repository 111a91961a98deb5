import { Global, Module, Scope } from '@nestjs/common';
import { ModuleRef, REQUEST } from '@nestjs/core';
import { CallContext } from './call-context.js';
import { CallLogger } from './call-logger.js';
import { CallScope } from './call-scope.js';
import { CallStart } from './call-start.js';
import { LiveCallContext } from './live-call-context.js';

/**
 * In each call's DI context the "request" is its CallStart. A per-call provider resolved
 * anywhere else (say, by an HTTP request, whose "request" is Express's) would get something that
 * is not a call: that fails here, loudly, rather than later in the provider.
 */
function callOf(request: unknown): CallStart {
  if (request instanceof CallStart) return request;
  throw new Error(
    'CallContext is only available to per-call providers resolved for a call; ' +
      'this one was resolved outside a call (e.g. by an HTTP request)',
  );
}

/**
 * The root of every call's DI context, for the per-call (`Scope.REQUEST`) providers of any
 * module: its CallStart, its logger (one per call, so its warning cap is per call), its
 * CallScope and its `CallContext`, injectable without importing the bridge's internals (the
 * bridge's own per-call providers inject LiveCallContext).
 */
@Global()
@Module({
  providers: [
    { provide: CallStart, scope: Scope.REQUEST, useFactory: callOf, inject: [REQUEST] },
    {
      provide: CallLogger,
      scope: Scope.REQUEST,
      useFactory: (call: CallStart) =>
        new CallLogger('Call', { callSid: call.callSid, streamSid: call.streamSid }),
      inject: [CallStart],
    },
    CallScope,
    {
      provide: LiveCallContext,
      scope: Scope.REQUEST,
      useFactory: (call: CallStart, scope: CallScope, moduleRef: ModuleRef) =>
        new LiveCallContext(call, scope, (type, id) =>
          moduleRef.resolve(type, id, { strict: false }),
        ),
      inject: [CallStart, CallScope, ModuleRef],
    },
    { provide: CallContext, useExisting: LiveCallContext },
  ],
  exports: [CallStart, CallLogger, CallScope, LiveCallContext, CallContext],
})
export class CallContextModule {}
