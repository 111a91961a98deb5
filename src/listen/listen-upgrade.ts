import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { ListenAccess } from './listen-access.js';
import { ListenHub } from './listen-hub.service.js';
import { MAX_LISTEN_CLIENT_FRAME_BYTES } from './listen.constants.js';

/**
 * The listen routes' WebSocket upgrades: vetted (ListenAccess) before any WebSocket exists, a
 * refusal answered as plain HTTP, an accepted socket handed to the ListenHub.
 */
@Injectable()
export class ListenUpgrade implements OnApplicationShutdown {
  private readonly server = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_LISTEN_CLIENT_FRAME_BYTES,
    perMessageDeflate: false,
  });

  constructor(
    private readonly access: ListenAccess,
    private readonly hub: ListenHub,
  ) {}

  /** True for a path of ours (then handled here); false leaves the upgrade to its owner. */
  matches(req: IncomingMessage): boolean {
    return ListenAccess.route(req.url) !== undefined;
  }

  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const verdict = this.access.vet(req, this.hub.count);
    if (!verdict.ok) return refuseUpgrade(socket, verdict.status, verdict.message);
    this.server.handleUpgrade(req, socket, head, (ws) => this.hub.accept(ws, verdict.target));
  }

  onApplicationShutdown(): void {
    for (const client of this.server.clients) client.terminate();
    this.server.close();
  }
}

/** An upgrade refused with an HTTP answer (and no WebSocket), then the connection closed. */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  if (!socket.writable) return void socket.destroy();
  const body = `${message}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
