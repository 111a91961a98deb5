import { Injectable } from '@nestjs/common';
import { CallDirectory } from '../directory/call-directory.js';
import { WEBHOOK_DEDUPE_TTL_MS } from './sip.constants.js';

/**
 * Which webhook deliveries have been seen, so a delivery OpenAI retries (same `webhook-id`) is
 * acted on once. Kept in the CallDirectory's memory: in cluster mode OpenAI's retry may reach
 * another instance, and Redis answers for all of them (`SET NX EX`).
 */
@Injectable()
export class WebhookDeliveries {
  private readonly ttlS = Math.ceil(WEBHOOK_DEDUPE_TTL_MS / 1000);

  constructor(private readonly directory: CallDirectory) {}

  /** True the first time `id` is seen (within WEBHOOK_DEDUPE_TTL_MS), false for a repeat. */
  firstDelivery(id: string): Promise<boolean> {
    return this.directory.remember('webhook-id', id, this.ttlS);
  }
}
