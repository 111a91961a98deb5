import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { azureRealtimeRefusal, type AzureShape } from './azure-shape.js';
import { FakeRealtimeConnection } from './fake-realtime-connection.js';
import { waitUntil } from './wait.js';

/**
 * A loopback stand-in for the OpenAI Realtime API (GA): greets each connection with
 * `session.created`, answers `session.update` with `session.updated`, records every client event,
 * and lets a test play the server's side (audio deltas, VAD events, errors, dropped sockets).
 */
export class FakeRealtimeServer {
  readonly connections: FakeRealtimeConnection[] = [];
  /** Set to refuse upgrades with this HTTP status (e.g. 401 for a bad key). */
  rejectWithStatus?: number;
  /** Delay before accepting an upgrade, to keep the bridge's session "connecting" for a while. */
  acceptDelayMs = 0;
  /** Called for each accepted connection (after `session.created`): a test plays the server. */
  onConnection?: (connection: FakeRealtimeConnection) => void;
  /** When each connection was accepted (Date.now()). */
  readonly acceptedAt: number[] = [];
  /** Upgrades refused for not having Azure's shape, and why (with `azure` only). */
  readonly refusals: string[] = [];
  private server?: WebSocketServer;

  /** `azure`: accept only Azure OpenAI's shape of the upgrade (AzureShape). */
  constructor(private readonly azure?: AzureShape) {}

  async start(): Promise<void> {
    this.server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      verifyClient: (info: { req: IncomingMessage }, done) => {
        const refusal = this.azure ? azureRealtimeRefusal(this.azure, info.req) : undefined;
        if (refusal) this.refusals.push(refusal.why);
        const status = refusal?.status ?? this.rejectWithStatus;
        const decide = () => (status ? done(false, status) : done(true));
        if (this.acceptDelayMs > 0) setTimeout(decide, this.acceptDelayMs);
        else decide();
      },
    });
    this.server.on('connection', (socket, req) => {
      const connection = new FakeRealtimeConnection(socket, req);
      this.connections.push(connection);
      this.acceptedAt.push(Date.now());
      this.onConnection?.(connection);
    });
    await new Promise<void>((resolve) => this.server!.once('listening', resolve));
  }

  /** The value for OPENAI_REALTIME_URL. */
  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `ws://127.0.0.1:${port}/v1/realtime`;
  }

  /** The value for AZURE_OPENAI_ENDPOINT (http: the bridge derives ws://.../openai/v1/realtime). */
  get azureEndpoint(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async connection(index: number): Promise<FakeRealtimeConnection> {
    await waitUntil(() => this.connections.length > index, `OpenAI connection #${index + 1}`);
    return this.connections[index];
  }

  async stop(): Promise<void> {
    for (const client of this.server?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
