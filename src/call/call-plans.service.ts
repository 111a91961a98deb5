import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { CallDirectory } from '../directory/call-directory.js';

/** What an outbound call was started with, kept until its stream starts. */
export interface CallPlan {
  instructions?: string;
  greeting?: string;
  parameters?: Record<string, string>;
}

const PLAN_TTL_S = 10 * 60;
/** Plans claimed by a starting stream whose session never took them are dropped after this. */
const CLAIMED_TTL_MS = 60 * 1000;

/**
 * Per-call settings chosen before the call exists on our side (`POST /api/calls`), by CallSid.
 * Kept in the CallDirectory (this process's memory, or Redis in cluster mode), so the TwiML
 * webhook and the stream of an outbound call may reach any instance. When the stream starts,
 * the gateway claims the plan into this instance, where the call's session takes it.
 */
@Injectable()
export class CallPlans {
  private readonly claimed = new Map<string, { plan: CallPlan; at: number }>();

  constructor(private readonly directory: CallDirectory) {}

  async set(callSid: string, plan: CallPlan): Promise<void> {
    await this.directory.setPlan(callSid, plan, PLAN_TTL_S);
  }

  async get(callSid: string): Promise<CallPlan | undefined> {
    return asPlan(await this.directory.getPlan(callSid));
  }

  /** The stream of this call starts here: its plan (if any) moves to this instance. */
  async claim(callSid: string): Promise<CallPlan | undefined> {
    const plan = asPlan(await this.directory.takePlan(callSid));
    const now = Date.now();
    for (const [sid, entry] of this.claimed) {
      if (now - entry.at < CLAIMED_TTL_MS) break;
      this.claimed.delete(sid);
    }
    if (plan) this.claimed.set(callSid, { plan, at: now });
    return plan;
  }

  /** The plan is used once: when the call's session begins. */
  take(callSid: string): CallPlan | undefined {
    const entry = this.claimed.get(callSid);
    this.claimed.delete(callSid);
    return entry?.plan;
  }
}

/** A plan as read back from the store (signed JSON in Redis): its known fields, well typed. */
const planSchema = z.object({
  instructions: z.string().optional(),
  greeting: z.string().optional(),
  parameters: z.record(z.string(), z.string()).optional(),
});

function asPlan(value: unknown): CallPlan | undefined {
  if (value === undefined) return undefined;
  return planSchema.safeParse(value).data;
}
