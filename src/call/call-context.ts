import type { ContextId } from '@nestjs/core';

/**
 * Everything known about one call, available by injection to every per-call provider
 * (`constructor(private readonly call: CallContext)` in a `Scope.REQUEST` provider).
 */
export class CallContext {
  readonly startedAt = new Date();

  constructor(
    /** The DI context of this call's provider sub-tree (for `moduleRef.resolve(X, contextId)`). */
    readonly contextId: ContextId,
    readonly callSid: string,
    readonly streamSid: string,
    readonly accountSid: string,
    readonly customParameters: Readonly<Record<string, string>>,
  ) {}

  get from(): string | undefined {
    return this.customParameters.From;
  }

  get to(): string | undefined {
    return this.customParameters.To;
  }
}
