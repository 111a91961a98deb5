import WebSocket from 'ws';
import { rawDataToString } from '../../src/websocket/raw-data.js';
import { waitUntil } from './wait.js';

export type ListenFrame = { event: string } & Record<string, any>;

/** The answer to a listen upgrade: the socket, or the HTTP status it was refused with. */
export async function openListen(
  url: string,
  headers: Record<string, string>,
): Promise<{ client?: ListenClient; status?: number; body?: string }> {
  const socket = new WebSocket(url, { headers, perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ client: new ListenClient(socket) }));
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    socket.once('error', reject);
  });
}

/** A listen-in client as an operator's script would be: every frame it got, in order, with when. */
export class ListenClient {
  readonly received: ListenFrame[] = [];
  readonly receivedAt: number[] = [];
  closeCode?: number;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.received.push(JSON.parse(rawDataToString(data)) as ListenFrame);
      this.receivedAt.push(performance.now());
    });
    socket.on('close', (code) => (this.closeCode = code));
  }

  send(frame: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(frame));
  }

  framesOf(event: string, track?: string): ListenFrame[] {
    return this.received.filter((f) => f.event === event && (!track || f.track === track));
  }

  /** The bytes of one track's `media` frames so far. */
  audio(track: 'caller' | 'assistant'): Buffer {
    return Buffer.concat(
      this.framesOf('media', track).map((f) => Buffer.from(f.payload as string, 'base64')),
    );
  }

  async waitFor(
    event: string,
    predicate: (frame: ListenFrame) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<ListenFrame> {
    let found: ListenFrame | undefined;
    await waitUntil(
      () => (found = this.received.find((f) => f.event === event && predicate(f))) !== undefined,
      `listen frame ${event}`,
      timeoutMs,
    );
    return found!;
  }

  async waitForClose(timeoutMs = 5000): Promise<number> {
    await waitUntil(() => this.closeCode !== undefined, 'the listen socket to close', timeoutMs);
    return this.closeCode!;
  }

  close(): void {
    this.socket.close();
  }
}
