import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { azureCallsRefusal, type AzureShape } from './azure-shape.js';
import { waitUntil } from './wait.js';

export interface RecordedCallsRequest {
  method: string;
  /** Path under the API base, e.g. `/v1/realtime/calls/rtc_1/accept`. */
  path: string;
  callId?: string;
  action?: string;
  body: unknown;
  authorization?: string;
  /** Azure's key header. */
  apiKey?: string;
  /** Set once the fake has written its answer (after any `delayMsFor`). */
  answered?: boolean;
}

/**
 * A loopback stand-in for OpenAI's REST calls API (`POST /v1/realtime/calls/{id}/accept |
 * reject | refer | hangup`): records every request and answers 200 with an empty body, as
 * OpenAI does, or a status a test chose for an action. With `azure`, an Azure OpenAI resource's
 * instead (`/openai/v1/realtime/calls/...`, its credential, the deployment as the accept's
 * model; azureCallsRefusal): anything else is refused as Azure would, and noted in `refusals`.
 */
export class FakeOpenAICalls {
  readonly requests: RecordedCallsRequest[] = [];
  /** Requests refused for not having Azure's shape, and why (with `azure` only). */
  readonly refusals: string[] = [];
  /**
   * Answers per action (e.g. `{ accept: 404 }`); unset actions get 200. A list is used up one
   * answer per request (`{ hangup: [503, 503] }`), then 200.
   */
  statusFor: Record<string, number | number[]> = {};
  /** How long to wait before answering, per action (e.g. `{ hangup: 300 }`); unset: at once. */
  delayMsFor: Record<string, number> = {};
  /** The error message of a non-200 answer (OpenAI's `{"error":{"message":...}}`). */
  errorMessage: (request: RecordedCallsRequest, status: number) => string = (_, status) =>
    `fake ${status}`;
  private server?: Server;

  constructor(private readonly azure?: AzureShape) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void readBody(req).then((text) => {
        const path = req.url ?? '';
        const match = /\/realtime\/calls\/([^/]+)\/([a-z]+)$/.exec(path);
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = text;
        }
        const request: RecordedCallsRequest = {
          method: req.method ?? '',
          path,
          callId: match ? decodeURIComponent(match[1]) : undefined,
          action: match?.[2],
          body,
          authorization: req.headers.authorization,
          apiKey: req.headers['api-key'] as string | undefined,
        };
        this.requests.push(request);
        const refusal = this.azure ? azureCallsRefusal(this.azure, req, body) : undefined;
        if (refusal) this.refusals.push(refusal.why);
        const scripted = match && !refusal ? this.statusFor[match[2]] : undefined;
        const next = Array.isArray(scripted) ? scripted.shift() : scripted;
        const status = refusal?.status ?? (next || (match ? 200 : 404));
        const answer = () => {
          res.writeHead(status, status === 200 ? {} : { 'content-type': 'application/json' });
          res.end(
            status === 200
              ? ''
              : JSON.stringify({ error: { message: this.errorMessage(request, status) } }),
          );
          request.answered = true;
        };
        const delay = match ? this.delayMsFor[match[2]] : undefined;
        if (delay) setTimeout(answer, delay);
        else answer();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  /** The value for AZURE_OPENAI_ENDPOINT (with `azure`: the calls API is under /openai/v1). */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** The value for OPENAI_API_BASE_URL. */
  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1`;
  }

  of(action: string, callId?: string): RecordedCallsRequest[] {
    return this.requests.filter(
      (r) => r.action === action && (callId === undefined || r.callId === callId),
    );
  }

  async waitFor(action: string, callId?: string): Promise<RecordedCallsRequest> {
    await waitUntil(() => this.of(action, callId).length > 0, `a calls-API ${action}`);
    return this.of(action, callId)[0];
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
