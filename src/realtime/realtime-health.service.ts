import { Injectable } from '@nestjs/common';

/**
 * How long a refused key keeps readiness down after the last refusal. Not until a connection
 * succeeds: behind a load balancer an unready instance gets no call, so nothing would clear it,
 * and after a short refusal (a key rotated in the wrong order) every instance would stay out
 * while callers met the balancer's error instead of the bridge's fallback.
 */
export const KEY_REJECTION_HOLD_MS = 60_000;

/**
 * What the last Realtime connection attempts say about OpenAI, for readiness: once OpenAI has
 * refused the API key, this instance is not ready until a connection succeeds again or
 * KEY_REJECTION_HOLD_MS passes without another refusal. Kept from real calls only: a probe of
 * OpenAI would cost money and fail offline.
 */
@Injectable()
export class RealtimeHealth {
  private keyRejectedAt?: Date;
  private rejectedStatus?: number;

  get keyRejected(): { at: Date; status: number } | undefined {
    const at = this.keyRejectedAt;
    if (!at || Date.now() - at.getTime() >= KEY_REJECTION_HOLD_MS) return undefined;
    return { at, status: this.rejectedStatus ?? 0 };
  }

  rejectedKey(status: number): void {
    this.keyRejectedAt = new Date();
    this.rejectedStatus = status;
  }

  connected(): void {
    this.keyRejectedAt = undefined;
    this.rejectedStatus = undefined;
  }
}
