import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

/**
 * A raw TCP client that sends exactly what it is told: a WebSocket upgrade without a signature
 * that never sends a frame nor answers a close, an SSE follower that stops reading, a request
 * with a Host header no browser would send.
 */
export interface RawClient {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  closed: Promise<number>;
}

export async function rawConnect(baseUrl: string, head: string): Promise<RawClient> {
  const { port } = new URL(baseUrl);
  const socket = connect(Number(port), '127.0.0.1');
  let text = '';
  socket.on('data', (chunk: Buffer) => {
    // Only the start is kept: a follower flood must not grow the test's own memory.
    if (text.length < 4096) text += chunk.toString('latin1');
  });
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(head);
  return { socket, received: () => text, closed };
}

/** An unsigned `GET /media-stream` upgrade; resolves once the server has answered it. */
export async function rawUpgrade(
  baseUrl: string,
  host = new URL(baseUrl).host,
): Promise<RawClient> {
  const client = await rawConnect(
    baseUrl,
    `GET /media-stream HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (/^HTTP\/1\.1 \d{3}/.test(client.received())) resolve();
      else setTimeout(check, 5);
    };
    check();
    // A refusal (HTTP 4xx/5xx) is written and the socket closed at once.
    void client.closed.then(() =>
      /^HTTP\/1\.1 \d{3}/.test(client.received())
        ? resolve()
        : reject(new Error('closed before the upgrade answer')),
    );
  });
  return client;
}

/** The status of an upgrade answer ("HTTP/1.1 101 ..."). */
export function statusOf(client: RawClient): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(client.received())?.[1] ?? 0);
}

/** An HTTP request with any headers (Host included), answered as status and body. */
export function rawRequest(
  baseUrl: string,
  options: { method?: string; path: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: Number(port),
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
        setHost: false,
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
