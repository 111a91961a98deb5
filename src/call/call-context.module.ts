import { Global, Module, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { CallContext } from './call-context.js';
import { LiveCallContext } from './live-call-context.js';

/**
 * In each call's DI context the "request" is its LiveCallContext. A per-call provider resolved
 * anywhere else (say, by an HTTP request, whose "request" is Express's) would get something that
 * is not a call: that fails here, loudly, rather than later in the provider.
 */
function callOf(request: unknown): LiveCallContext {
  if (request instanceof LiveCallContext) return request;
  throw new Error(
    'CallContext is only available to per-call providers resolved for a call; ' +
      'this one was resolved outside a call (e.g. by an HTTP request)',
  );
}

/**
 * Makes `CallContext` injectable into per-call (`Scope.REQUEST`) providers of any module, without
 * importing the bridge's internals; the bridge's own per-call providers inject LiveCallContext.
 */
@Global()
@Module({
  providers: [
    { provide: LiveCallContext, scope: Scope.REQUEST, useFactory: callOf, inject: [REQUEST] },
    { provide: CallContext, scope: Scope.REQUEST, useFactory: callOf, inject: [REQUEST] },
  ],
  exports: [LiveCallContext, CallContext],
})
export class CallContextModule {}
