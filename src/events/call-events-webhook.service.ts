import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { callControlConfig } from '../config/config.namespaces.js';
import type { CallControlConfig } from '../config/config.namespaces.js';
import { lostCallEndedEvent, type LostCall } from '../history/history-record.js';
import { HistoryEvent } from '../history/history.constants.js';
import { CallEventBus } from './call-event-bus.js';
import { CallEvent, type AnyCallEvent, type CallDtmfEvent } from './call-events.js';

const DELIVERY_TIMEOUT_MS = 5000;
/** Deliveries in flight at once; the rest wait in the queue. */
const MAX_CONCURRENT_DELIVERIES = 8;
/** Events waiting for delivery; beyond this the oldest are dropped and counted. */
const MAX_QUEUED_DELIVERIES = 1000;
/** Key presses this close together are one burst, delivered as one `call.dtmf`... */
const DTMF_QUIET_MS = 500;
/** ...but a burst is delivered at the latest this long after its first key press. */
const DTMF_MAX_WAIT_MS = 2000;
/** Digits one coalesced event carries; more are counted in the log, not sent. */
const MAX_DIGITS_PER_EVENT = 256;
/** Dropped-delivery warnings logged; the rest are only counted. */
const MAX_DROP_WARNINGS = 10;
/** Bytes of a receiver's answer read (and thrown away) so its connection can be reused. */
const MAX_ANSWER_BYTES = 1024 * 1024;

interface DtmfBurst {
  first: CallDtmfEvent;
  digits: string;
  quiet?: NodeJS.Timeout;
  deadline: NodeJS.Timeout;
}

/**
 * POSTs every call event as JSON to CALL_EVENTS_WEBHOOK_URL, signed so the receiver can trust
 * it: `X-Bridge-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` keyed by
 * CALL_EVENTS_WEBHOOK_SECRET, with the timestamp in `X-Bridge-Timestamp` (reject old ones to
 * stop replays). Best effort: a failed delivery is logged, never retried into the call path.
 * A call the history found lost gets its `call.ended` (outcome `lost`) from here too.
 * Bounded: a burst of key presses is one event (with `digits`), at most
 * MAX_CONCURRENT_DELIVERIES requests are in flight and MAX_QUEUED_DELIVERIES wait.
 */
@Injectable()
export class CallEventsWebhookService implements OnModuleDestroy {
  private readonly log = new Logger('CallEventsWebhook');
  private readonly bursts = new Map<string, DtmfBurst>();
  private readonly queue: AnyCallEvent[] = [];
  private inFlight = 0;
  private dropped = 0;

  constructor(
    @Inject(callControlConfig.KEY) private readonly cfg: CallControlConfig,
    bus: CallEventBus,
  ) {
    bus.follow('CallEventsWebhook', (event) => this.deliver(event));
    // A call whose process died never sent its `call.ended`: the history found it lost, and
    // the instance that did (one per call) delivers it, with outcome `lost`.
    bus.on(HistoryEvent.CallLost, (call: LostCall) =>
      this.deliver(lostCallEndedEvent(call, new Date().toISOString())),
    );
  }

  deliver(event: AnyCallEvent): void {
    if (!this.cfg.eventsWebhookUrl || !this.cfg.eventsWebhookSecret) return;
    if (event.event === CallEvent.Dtmf) {
      this.addKeyPress(event);
      return;
    }
    // Keep the call's order: its pending key presses go before anything after them.
    this.flushBurst(event.callSid);
    this.enqueue(event);
  }

  onModuleDestroy(): void {
    for (const callSid of [...this.bursts.keys()]) this.flushBurst(callSid);
  }

  private addKeyPress(event: CallDtmfEvent): void {
    const burst = this.bursts.get(event.callSid);
    if (!burst) {
      const deadline = setTimeout(() => this.flushBurst(event.callSid), DTMF_MAX_WAIT_MS);
      this.bursts.set(event.callSid, {
        first: event,
        digits: event.digit,
        deadline,
        quiet: setTimeout(() => this.flushBurst(event.callSid), DTMF_QUIET_MS),
      });
      return;
    }
    if (burst.digits.length < MAX_DIGITS_PER_EVENT) burst.digits += event.digit;
    clearTimeout(burst.quiet);
    burst.quiet = setTimeout(() => this.flushBurst(event.callSid), DTMF_QUIET_MS);
  }

  private flushBurst(callSid: string): void {
    const burst = this.bursts.get(callSid);
    if (!burst) return;
    this.bursts.delete(callSid);
    clearTimeout(burst.quiet);
    clearTimeout(burst.deadline);
    this.enqueue({ ...burst.first, digits: burst.digits });
  }

  private enqueue(event: AnyCallEvent): void {
    this.queue.push(event);
    if (this.queue.length > MAX_QUEUED_DELIVERIES) {
      const lost = this.queue.shift()!;
      if (++this.dropped <= MAX_DROP_WARNINGS) {
        this.log.warn(
          `${lost.event} for ${lost.callSid}: not delivered, ${MAX_QUEUED_DELIVERIES} events already waiting (${this.dropped} dropped so far)`,
        );
      }
    }
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < MAX_CONCURRENT_DELIVERIES && this.queue.length > 0) {
      const event = this.queue.shift()!;
      this.inFlight++;
      void this.post(event).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async post(event: AnyCallEvent): Promise<void> {
    const url = this.cfg.eventsWebhookUrl;
    const secret = this.cfg.eventsWebhookSecret;
    if (!url || !secret) return;
    const body = JSON.stringify(event);
    const timestamp = Math.floor(Date.now() / 1000).toString();
    const signature = createHmac('sha256', secret.reveal())
      .update(`${timestamp}.${body}`)
      .digest('hex');
    // Ends the request, connection and all, once the answer runs past MAX_ANSWER_BYTES
    // (stopping to read is not enough: some fetch versions would read on in the background).
    const cutOff = new AbortController();
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-bridge-timestamp': timestamp,
          'x-bridge-signature': `sha256=${signature}`,
        },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(DELIVERY_TIMEOUT_MS), cutOff.signal]),
      });
      if (!response.ok)
        this.log.warn(`${event.event} for ${event.callSid}: webhook answered ${response.status}`);
      await discardBody(response, cutOff);
    } catch (error) {
      this.log.warn(
        `${event.event} for ${event.callSid}: webhook delivery failed: ${(error as Error).message}`,
      );
    }
  }
}

/**
 * Reads the answer to its end and drops it: an answer longer than fetch buffers by itself
 * (~64 KiB) holds its connection until the garbage collector finds the unread body, so each
 * delivery would open another (cancelling the stream closes it instead). An answer longer than
 * MAX_ANSWER_BYTES is cut off with its connection (`cutOff`).
 */
async function discardBody(response: Response, cutOff: AbortController): Promise<void> {
  if (!response.body) return;
  let bytes = 0;
  try {
    for await (const chunk of response.body) {
      bytes += (chunk as Uint8Array).byteLength;
      if (bytes > MAX_ANSWER_BYTES) return cutOff.abort();
    }
  } catch {
    // The event was delivered; an answer cut short (reset, the delivery timeout) changes nothing.
  }
}
