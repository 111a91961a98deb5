import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { azureCredentialProblem, type AzureCredentialShape } from './azure-shape.js';

/**
 * A loopback stand-in for OpenAI's REST API: `GET /v1/models` answers the model list for the
 * accepted key and 401 `invalid_api_key` for any other, as api.openai.com does. With `azure`, an
 * Azure OpenAI resource instead: `GET /openai/v1/models` with its `api-key` (and no
 * Authorization) or an accepted Entra ID Bearer token (and no api-key).
 */
export class FakeOpenAIRest {
  readonly requests: Array<{
    method: string;
    path: string;
    authorization?: string;
    apiKey?: string;
  }> = [];
  private server?: Server;

  constructor(
    private readonly acceptedKey: string,
    private readonly azure?: AzureCredentialShape,
  ) {}

  private authorized(req: IncomingMessage): boolean {
    if (!this.azure) return req.headers.authorization === `Bearer ${this.acceptedKey}`;
    return azureCredentialProblem(this.azure, req.headers) === undefined;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
        apiKey: req.headers['api-key'] as string | undefined,
      });
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (!this.authorized(req)) {
        json(401, {
          error: {
            message: 'Incorrect API key provided.',
            type: 'invalid_request_error',
            code: 'invalid_api_key',
          },
        });
        return;
      }
      const models = this.azure ? '/openai/v1/models' : '/v1/models';
      if (req.method === 'GET' && req.url === models) {
        json(200, {
          object: 'list',
          data: ['gpt-realtime', 'gpt-4o-mini-transcribe'].map((id) => ({
            id,
            object: 'model',
            owned_by: 'system',
          })),
        });
        return;
      }
      json(404, {
        error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' },
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  /** The value for AZURE_OPENAI_ENDPOINT (with `azure`). */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** The value for OPENAI_API_BASE_URL. */
  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
