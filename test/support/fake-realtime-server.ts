import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { rawDataToString } from '../../src/websocket/raw-data.js';
import { azureRealtimeRefusal, type AzureShape } from './azure-shape.js';
import { waitUntil } from './wait.js';

export type RealtimeClientEvent = { type: string } & Record<string, unknown>;

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

  /** `azure`: accept only Azure OpenAI's shape of the upgrade (AzureShape, azure-shape.ts). */
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

export class FakeRealtimeConnection {
  readonly received: RealtimeClientEvent[] = [];
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  closed = false;
  /** The close frame the bridge sent (code 1006 when the socket just died). */
  closeCode?: number;
  closeReason?: string;
  /** Ids of the responses created for the bridge's `response.create`s, in order. */
  readonly responseIds: string[] = [];
  private responses = 0;
  private sequence = 0;

  constructor(
    readonly socket: WebSocket,
    req: IncomingMessage,
  ) {
    this.url = new URL(req.url ?? '/', 'ws://127.0.0.1');
    this.headers = req.headers;
    socket.on('message', (data) => {
      const event = JSON.parse(rawDataToString(data)) as RealtimeClientEvent;
      this.received.push(event);
      if (event.type === 'response.create') {
        // As the real server does: every response starts with response.created.
        const id = `resp_auto_${++this.responses}`;
        this.responseIds.push(id);
        // The server echoes the request's metadata in the response, as OpenAI does.
        const metadata = (event.response as { metadata?: unknown } | undefined)?.metadata ?? null;
        this.send({
          type: 'response.created',
          response: { id, status: 'in_progress', output: [], metadata },
        });
      }
      if (event.type === 'session.update') {
        this.send({ type: 'session.updated', session: event.session ?? {} });
      }
    });
    socket.on('close', (code, reason) => {
      this.closed = true;
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
    this.send({ type: 'session.created', session: { id: 'sess_fake', model: 'gpt-realtime' } });
  }

  send(event: Record<string, unknown>): void {
    this.socket.send(JSON.stringify({ event_id: `event_${++this.sequence}`, ...event }));
  }

  eventsOfType(type: string): RealtimeClientEvent[] {
    return this.received.filter((event) => event.type === type);
  }

  async waitFor(
    type: string,
    predicate: (event: RealtimeClientEvent) => boolean = () => true,
  ): Promise<RealtimeClientEvent> {
    let found: RealtimeClientEvent | undefined;
    await waitUntil(() => {
      found = this.received.find((event) => event.type === type && predicate(event));
      return found !== undefined;
    }, `client event ${type}`);
    return found!;
  }

  /** Decoded bytes of every `input_audio_buffer.append` so far. */
  appendedAudio(): Buffer {
    return Buffer.concat(
      this.eventsOfType('input_audio_buffer.append').map((event) =>
        Buffer.from(event.audio as string, 'base64'),
      ),
    );
  }

  audioDelta(responseId: string, itemId: string, mulaw: Buffer): void {
    this.send({
      type: 'response.output_audio.delta',
      response_id: responseId,
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      delta: mulaw.toString('base64'),
    });
  }

  audioDone(responseId: string, itemId: string): void {
    this.send({
      type: 'response.output_audio.done',
      response_id: responseId,
      item_id: itemId,
      output_index: 0,
      content_index: 0,
    });
  }

  async waitForClose(): Promise<void> {
    await waitUntil(() => this.closed, 'OpenAI socket to close');
  }
}
