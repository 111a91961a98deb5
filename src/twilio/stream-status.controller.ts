import { Body, Controller, HttpCode, Logger, Post, UseGuards } from '@nestjs/common';
import { BridgeMetrics } from '../metrics/bridge-metrics.service.js';
import { STREAM_STATUS_PATH } from './public-url.js';
import { TwilioSignatureGuard } from './twilio-signature.guard.js';
import { twimlText } from './twiml.js';

/** The StreamEvent values Twilio sends; anything else is counted as `other`. */
const STREAM_EVENTS = new Set(['stream-started', 'stream-stopped', 'stream-error']);
/** Longest field value written to a log line (Twilio's are far shorter). */
const MAX_LOGGED_CHARS = 200;

/**
 * `<Stream statusCallback>`: Twilio reports the media stream's life here, signed like every
 * webhook. A `stream-error` (a failed handshake on Twilio's side, a refused URL) never reaches
 * the media socket, so this is the only place it can be seen: logged as a warning and counted
 * (`bridge_twilio_stream_events_total`).
 */
@Controller()
@UseGuards(TwilioSignatureGuard)
export class StreamStatusController {
  private readonly log = new Logger('TwilioStreamStatus');

  constructor(private readonly metrics: BridgeMetrics) {}

  @Post(STREAM_STATUS_PATH)
  @HttpCode(204)
  status(@Body() body: unknown): void {
    const fields =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const text = (name: string) => {
      const value = fields[name];
      return typeof value === 'string' ? twimlText(value, MAX_LOGGED_CHARS) : undefined;
    };
    const event = text('StreamEvent') ?? '';
    this.metrics.twilioStreamEvent(STREAM_EVENTS.has(event) ? event : 'other');
    const line =
      `[callSid=${text('CallSid') ?? '-'} streamSid=${text('StreamSid') ?? '-'}] ` +
      `Twilio stream status ${event || '(none)'}`;
    if (event === 'stream-error') {
      this.log.warn(`${line}: ${text('StreamError') ?? 'no StreamError given'}`);
    } else {
      this.log.log(line);
    }
  }
}
