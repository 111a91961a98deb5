import { Scope, type Provider } from '@nestjs/common';
import { CallContext } from './call-context.js';
import { CallPlans } from './call-plans.service.js';
import { CallSettingsService, type CallSettings } from './call-settings.service.js';

/**
 * This call's settings (instructions, voice, greeting, recovery, the tools it is offered), fixed
 * when the call starts.
 */
export const CALL_SETTINGS = Symbol('CALL_SETTINGS');

/**
 * Per-call values that are not classes of their own: the call's settings (defaults < profile <
 * the API's call plan, taken once: a plan is consumed by its call < the application's
 * CALL_SETTINGS_RESOLVER). The call's logger is in CallContextModule, beside its scope.
 */
export const callValueProviders: Provider[] = [
  {
    provide: CALL_SETTINGS,
    scope: Scope.REQUEST,
    useFactory: (
      call: CallContext,
      settings: CallSettingsService,
      plans: CallPlans,
    ): Promise<CallSettings> => settings.resolveFor(call, plans.take(call.callSid)),
    inject: [CallContext, CallSettingsService, CallPlans],
  },
];
