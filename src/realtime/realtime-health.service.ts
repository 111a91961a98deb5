import { Injectable } from '@nestjs/common';

/**
 * What the last Realtime connection attempts say about OpenAI, for readiness: once OpenAI has
 * refused the API key, this instance cannot serve calls until a connection succeeds again. Kept
 * from real calls only: a probe of OpenAI would cost money and fail offline.
 */
@Injectable()
export class RealtimeHealth {
  private keyRejectedAt?: Date;
  private rejectedStatus?: number;

  get keyRejected(): { at: Date; status: number } | undefined {
    return this.keyRejectedAt
      ? { at: this.keyRejectedAt, status: this.rejectedStatus ?? 0 }
      : undefined;
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
