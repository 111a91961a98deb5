import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { DemoSession } from './demo-session.js';

export { DEMO_TOOL } from './demo-session.js';

export interface DemoModelOptions {
  /** Default 127.0.0.1: the demo model is for this machine. */
  host?: string;
  /** Default 0: a free port (see `url`). */
  port?: number;
  /** One line per connection and tool call; default silent. */
  log?: (line: string) => void;
}

/** Largest client event accepted, as a bound: 15 MiB of audio per append is the GA limit. */
const MAX_EVENT_BYTES = 16 * 1024 * 1024;
export const DEMO_REALTIME_PATH = '/v1/realtime';

/**
 * A local stand-in for the OpenAI Realtime API (GA) that needs no account and no network: the
 * "demo model". Point OPENAI_REALTIME_URL at `url` and every part of the bridge runs: session
 * set-up, server VAD on the caller's speech, input transcription, audio responses (a sentence as
 * tones, then the caller's words played back), a function call to `get_store_hours` when
 * offered, barge-in (cancel + truncate). Like the real server it wants a Bearer key (any value),
 * answers only on /v1/realtime, and refuses the retired beta header.
 */
export class DemoModel {
  private server?: WebSocketServer;
  private readonly log: (line: string) => void;

  constructor(private readonly options: DemoModelOptions = {}) {
    this.log = options.log ?? (() => undefined);
  }

  async start(): Promise<void> {
    const server = new WebSocketServer({
      host: this.options.host ?? '127.0.0.1',
      port: this.options.port ?? 0,
      maxPayload: MAX_EVENT_BYTES,
      perMessageDeflate: false,
      verifyClient: ({ req }, done) => {
        const path = new URL(req.url ?? '/', 'ws://localhost').pathname;
        if (path !== DEMO_REALTIME_PATH) return done(false, 404, 'Not Found');
        if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) {
          return done(false, 401, 'Unauthorized: send Authorization: Bearer <any key>');
        }
        done(true);
      },
    });
    this.server = server;
    server.on('connection', (socket, req) => this.accept(socket, req));
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  }

  /** The value for OPENAI_REALTIME_URL. */
  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) throw new Error('the demo model is not running');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `ws://${host}:${address.port}${DEMO_REALTIME_PATH}`;
  }

  async stop(): Promise<void> {
    for (const client of this.server?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
    this.server = undefined;
  }

  private accept(socket: WebSocket, req: IncomingMessage): void {
    if (req.headers['openai-beta']) {
      // What OpenAI's server has done since the beta was retired.
      socket.send(
        JSON.stringify({
          type: 'error',
          error: {
            type: 'invalid_request_error',
            code: 'beta_api_shape_disabled',
            message:
              'The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API.',
          },
        }),
      );
      socket.close(4000, 'beta_api_shape_disabled');
      return;
    }
    const model =
      new URL(req.url ?? '/', 'ws://localhost').searchParams.get('model') ?? 'gpt-realtime';
    this.log(`demo model: session opened (model ${model})`);
    socket.on('close', () => this.log('demo model: session closed'));
    new DemoSession(socket, model, this.log);
  }
}
