import { Global, Module, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { CallContext } from './call-context.js';

/**
 * Makes `CallContext` injectable into per-call (`Scope.REQUEST`) providers of any module, without
 * importing the bridge's internals: in each call's DI context, the "request" is its CallContext.
 */
@Global()
@Module({
  providers: [
    {
      provide: CallContext,
      scope: Scope.REQUEST,
      useFactory: (call: CallContext) => call,
      inject: [REQUEST],
    },
  ],
  exports: [CallContext],
})
export class CallContextModule {}
