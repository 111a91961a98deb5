import { Inject, Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { createHmac } from 'node:crypto';
import { callControlConfig } from '../config/config.namespaces.js';
import type { CallControlConfig } from '../config/config.namespaces.js';
import type { AnyCallEvent } from './call-events.js';

const DELIVERY_TIMEOUT_MS = 5000;

/**
 * POSTs every call event as JSON to CALL_EVENTS_WEBHOOK_URL, signed so the receiver can trust
 * it: `X-Bridge-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` keyed by
 * CALL_EVENTS_WEBHOOK_SECRET, with the timestamp in `X-Bridge-Timestamp` (reject old ones to
 * stop replays). Best effort: a failed delivery is logged, never retried into the call path.
 */
@Injectable()
export class CallEventsWebhookService {
  private readonly log = new Logger('CallEventsWebhook');

  constructor(@Inject(callControlConfig.KEY) private readonly cfg: CallControlConfig) {}

  @OnEvent('call.*')
  async deliver(event: AnyCallEvent): Promise<void> {
    const url = this.cfg.eventsWebhookUrl;
    const secret = this.cfg.eventsWebhookSecret;
    if (!url || !secret) return;
    const body = JSON.stringify(event);
    const timestamp = Math.floor(Date.now() / 1000).toString();
    const signature = createHmac('sha256', secret.reveal())
      .update(`${timestamp}.${body}`)
      .digest('hex');
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-bridge-timestamp': timestamp,
          'x-bridge-signature': `sha256=${signature}`,
        },
        body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      if (!response.ok)
        this.log.warn(`${event.event} for ${event.callSid}: webhook answered ${response.status}`);
    } catch (error) {
      this.log.warn(
        `${event.event} for ${event.callSid}: webhook delivery failed: ${(error as Error).message}`,
      );
    }
  }
}
