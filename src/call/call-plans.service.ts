import { Injectable } from '@nestjs/common';

/** What an outbound call was started with, kept until its stream starts. */
export interface CallPlan {
  instructions?: string;
  greeting?: string;
  parameters?: Record<string, string>;
}

const PLAN_TTL_MS = 10 * 60 * 1000;

/**
 * Per-call settings chosen before the call exists on our side (`POST /api/calls`), by CallSid.
 * Held in this instance's memory: the TwiML webhook and the stream of an outbound call should
 * reach the instance that placed it (sticky routing), or use profiles, which need no state.
 */
@Injectable()
export class CallPlans {
  private readonly plans = new Map<string, { plan: CallPlan; expiresAt: number }>();

  set(callSid: string, plan: CallPlan): void {
    this.prune();
    this.plans.set(callSid, { plan, expiresAt: Date.now() + PLAN_TTL_MS });
  }

  get(callSid: string): CallPlan | undefined {
    const entry = this.plans.get(callSid);
    return entry && entry.expiresAt > Date.now() ? entry.plan : undefined;
  }

  /** The plan is used once: when the call's stream starts. */
  take(callSid: string): CallPlan | undefined {
    const plan = this.get(callSid);
    this.plans.delete(callSid);
    return plan;
  }

  private prune(): void {
    const now = Date.now();
    for (const [callSid, entry] of this.plans)
      if (entry.expiresAt <= now) this.plans.delete(callSid);
  }
}
