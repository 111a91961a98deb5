import type { Request, Response } from 'express';
import { HEARTBEAT_MS, MAX_FOLLOWER_BACKLOG_BYTES } from './console.constants.js';

/**
 * One server-sent event stream to a console page. Writes never queue without bound: a page
 * that stops reading (MAX_FOLLOWER_BACKLOG_BYTES behind) is disconnected, and its EventSource
 * reconnects and starts again from a fresh snapshot.
 */
export class SseStream {
  private closed = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly lifetime: NodeJS.Timeout;
  private readonly closeHandlers: Array<() => void> = [];

  /**
   * `maxDurationMs`: the stream ends then, like the call-events route's (SSE_MAX_DURATION_S); the
   * page's EventSource reconnects and starts from a fresh snapshot.
   */
  constructor(
    req: Request,
    private readonly res: Response,
    maxDurationMs: number,
  ) {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies such as nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), HEARTBEAT_MS);
    this.heartbeat.unref();
    this.lifetime = setTimeout(() => this.close(), maxDurationMs);
    this.lifetime.unref();
    req.on('close', () => this.close());
    res.on('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(event: string, data: unknown): void {
    this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  onClose(handler: () => void): void {
    if (this.closed) handler();
    else this.closeHandlers.push(handler);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.lifetime);
    if (!this.res.writableEnded) this.res.end();
    for (const handler of this.closeHandlers.splice(0)) handler();
  }

  private write(text: string): void {
    if (this.closed) return;
    if (this.res.writableLength > MAX_FOLLOWER_BACKLOG_BYTES) {
      this.close();
      return;
    }
    this.res.write(text);
  }
}
