import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitUntil } from './wait.js';

export interface RecordedRestRequest {
  method: string;
  path: string;
  /** Form fields, as Twilio's REST API receives them (PascalCase keys). */
  form: Record<string, string | string[]>;
  authorization?: string;
}

/** An IncomingPhoneNumber as Twilio's REST API returns it (the fields the bridge reads). */
export interface FakePhoneNumber {
  sid: string;
  phone_number: string;
  friendly_name: string;
  voice_url: string;
  voice_method: string;
}

/**
 * A loopback stand-in for api.twilio.com: records each request the `twilio` client makes and
 * answers like the Calls and IncomingPhoneNumbers resources do.
 */
export class FakeTwilioRest {
  readonly requests: RecordedRestRequest[] = [];
  /** The account's numbers (listed, and updated by a POST to one of them). */
  numbers: FakePhoneNumber[] = [];
  /** Answer every request 401 (code 20003), as Twilio does for a wrong auth token. */
  rejectAuth = false;
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
        if (this.answerOther(req.method ?? '', req.url ?? '', form, res)) return;
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

  /** Authentication failures and the IncomingPhoneNumbers resource; false for anything else. */
  private answerOther(
    method: string,
    url: string,
    form: Record<string, string | string[]>,
    res: ServerResponse,
  ): boolean {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
      return true;
    };
    if (this.rejectAuth) {
      return json(401, { code: 20003, message: 'Authenticate', status: 401 });
    }
    const path = url.split('?')[0];
    if (method === 'GET' && path.endsWith('/IncomingPhoneNumbers.json')) {
      return json(200, {
        incoming_phone_numbers: this.numbers,
        page: 0,
        page_size: 50,
        start: 0,
        end: this.numbers.length - 1,
        uri: path,
        first_page_uri: path,
        next_page_uri: null,
        previous_page_uri: null,
      });
    }
    const update = /\/IncomingPhoneNumbers\/(PN[0-9a-f]+)\.json$/.exec(path);
    if (method === 'POST' && update) {
      const number = this.numbers.find((n) => n.sid === update[1]);
      if (!number) {
        return json(404, {
          code: 20404,
          message: 'The requested resource was not found',
          status: 404,
        });
      }
      if (typeof form.VoiceUrl === 'string') number.voice_url = form.VoiceUrl;
      if (typeof form.VoiceMethod === 'string') number.voice_method = form.VoiceMethod;
      return json(200, number);
    }
    return false;
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
