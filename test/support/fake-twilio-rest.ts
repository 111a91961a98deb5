import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitUntil } from './wait.js';

export interface RecordedRestRequest {
  method: string;
  path: string;
  /** Form fields, as Twilio's REST API receives them (PascalCase keys). */
  form: Record<string, string | string[]>;
  authorization?: string;
}

/**
 * A loopback stand-in for api.twilio.com: records each request the `twilio` client makes and
 * answers like the Calls resource does.
 */
export class FakeTwilioRest {
  readonly requests: RecordedRestRequest[] = [];
  private server?: Server;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void readBody(req).then((body) => {
        const form: Record<string, string | string[]> = {};
        for (const [key, value] of new URLSearchParams(body)) {
          const existing = form[key];
          form[key] = existing === undefined ? value : [...[existing].flat(), value];
        }
        this.requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          form,
          authorization: req.headers.authorization,
        });
        const callSid =
          /Calls\/(CA[^./]+)/.exec(req.url ?? '')?.[1] ?? 'CA0000000000000000000000000000aaa1';
        res.writeHead(req.url?.includes('CA_GONE') ? 404 : 200, {
          'content-type': 'application/json',
        });
        res.end(
          JSON.stringify(
            req.url?.includes('CA_GONE')
              ? { code: 20404, message: 'The requested resource was not found', status: 404 }
              : { sid: callSid, status: form.Status ?? 'queued', to: form.To, from: form.From },
          ),
        );
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  /** The value for TWILIO_API_BASE_URL. */
  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async waitForRequest(
    predicate: (request: RecordedRestRequest) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<RecordedRestRequest> {
    let found: RecordedRestRequest | undefined;
    await waitUntil(
      () => {
        found = this.requests.find(predicate);
        return found !== undefined;
      },
      'a Twilio REST request',
      timeoutMs,
    );
    return found!;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
