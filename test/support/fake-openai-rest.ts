import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for OpenAI's REST API: `GET /v1/models` answers the model list for the
 * accepted key and 401 `invalid_api_key` for any other, as api.openai.com does.
 */
export class FakeOpenAIRest {
  readonly requests: Array<{ method: string; path: string; authorization?: string }> = [];
  private server?: Server;

  constructor(private readonly acceptedKey: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
      });
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${this.acceptedKey}`) {
        json(401, {
          error: {
            message: 'Incorrect API key provided.',
            type: 'invalid_request_error',
            code: 'invalid_api_key',
          },
        });
        return;
      }
      if (req.method === 'GET' && req.url === '/v1/models') {
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
