import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitUntil } from './wait.js';

/** One POST the events webhook made: its body, parsed, and whether its signature held. */
export interface ReceivedEvent {
  body: string;
  event: { event: string; [field: string]: unknown };
  signedRight: boolean;
}

/**
 * A receiver of the bridge's events webhook (CALL_EVENTS_WEBHOOK_URL) on a free loopback port.
 * Checks each delivery's `X-Bridge-Signature` the way docs/extending.md tells a receiver to:
 * HMAC-SHA256 of "<timestamp>.<body>" keyed by the secret, computed here with node:crypto.
 */
export class EventsReceiver {
  readonly received: ReceivedEvent[] = [];

  private constructor(
    private readonly server: Server,
    readonly secret: string,
  ) {}

  static async start(secret = 'hook-secret'): Promise<EventsReceiver> {
    const server = createServer();
    const receiver = new EventsReceiver(server, secret);
    server.on('request', (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const expected = createHmac('sha256', secret)
          .update(`${String(req.headers['x-bridge-timestamp'])}.${body}`)
          .digest('hex');
        receiver.received.push({
          body,
          event: JSON.parse(body) as ReceivedEvent['event'],
          signedRight: req.headers['x-bridge-signature'] === `sha256=${expected}`,
        });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/events`;
  }

  /** The service's environment for this receiver. */
  get env(): Record<string, string> {
    return { CALL_EVENTS_WEBHOOK_URL: this.url, CALL_EVENTS_WEBHOOK_SECRET: this.secret };
  }

  /** The events delivered so far with this name, in order. */
  events(name: string): ReceivedEvent['event'][] {
    return this.received.filter((r) => r.event.event === name).map((r) => r.event);
  }

  /** The first event with this name, once it has been delivered. */
  async event(name: string, timeoutMs = 20_000): Promise<ReceivedEvent['event']> {
    await waitUntil(() => this.events(name).length > 0, `${name} at the webhook`, timeoutMs);
    return this.events(name)[0];
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
