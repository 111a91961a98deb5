import type { ServerResponse } from 'node:http';
import {
  MAX_SSE_BACKLOG_BYTES,
  MAX_SSE_EVENT_BYTES,
  SSE_HEARTBEAT_MS,
  SSE_RETRY_MS,
} from './sse.constants.js';
import { sseEventJson } from './sse-event.js';

/** One event as written on the wire (sseFrame). */
export type SseFrame = string & { readonly __sseFrame: true };

/** `event` with `data` as its JSON, cut to `maxBytes` if it is bigger (sseEventJson). */
export function sseFrame(event: string, data: unknown, maxBytes = MAX_SSE_EVENT_BYTES): SseFrame {
  return `event: ${event}\ndata: ${sseEventJson(data, maxBytes)}\n\n` as SseFrame;
}

const FRAME_PARTS = /^event: ([^\n]*)\ndata: ([^\n]*)\n\n$/;

/** The event's name and data, of a frame sseFrame made. */
export function sseFrameParts(frame: SseFrame): { event: string; data: unknown } {
  const [, event, json] = FRAME_PARTS.exec(frame)!;
  return { event, data: JSON.parse(json) as unknown };
}

/**
 * Where a stream's events go: an SseStream to a client here, or a relay to a client on another
 * instance of the cluster (stream-relay/stream-relay-host.service.ts).
 */
export interface SseSink {
  readonly isClosed: boolean;
  send(event: string, data: unknown): void;
  sendFrame(frame: SseFrame): void;
  onClose(handler: () => void): void;
  close(why?: string): void;
}

/**
 * One server-sent event stream, the same for every streaming route (the call-events API and the
 * console): the same headers, a heartbeat comment every SSE_HEARTBEAT_MS, an end after
 * `maxDurationMs` (the client reconnects), events bounded to MAX_SSE_EVENT_BYTES, and the one
 * slow-reader rule: a reader MAX_SSE_BACKLOG_BYTES behind is dropped. Writes never queue without
 * bound.
 */
export class SseStream implements SseSink {
  private closed = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly lifetime: NodeJS.Timeout;
  private readonly closeHandlers: Array<() => void> = [];

  /** `opening`: a first comment line saying what the stream is. */
  constructor(
    private readonly res: ServerResponse,
    maxDurationMs: number,
    opening?: string,
  ) {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies such as nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${SSE_RETRY_MS}\n\n`);
    if (opening) this.comment(opening);
    this.heartbeat = setInterval(() => this.comment('keep-alive'), SSE_HEARTBEAT_MS);
    this.heartbeat.unref();
    this.lifetime = setTimeout(() => this.close('maximum follow time reached'), maxDurationMs);
    this.lifetime.unref();
    // The response closes when the client goes away (or when we end it).
    res.on('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** One event; its data cut to MAX_SSE_EVENT_BYTES if it is bigger (sseEventJson). */
  send(event: string, data: unknown): void {
    this.write(sseFrame(event, data));
  }

  /** An event already framed by sseFrame: one event fanned out to many streams is built once. */
  sendFrame(frame: SseFrame): void {
    this.write(frame);
  }

  /** A comment line (ignored by EventSource; read by people and tests). */
  comment(text: string): void {
    this.write(`: ${text.replace(/[\r\n]/g, ' ')}\n\n`);
  }

  onClose(handler: () => void): void {
    if (this.closed) handler();
    else this.closeHandlers.push(handler);
  }

  /** Ends the stream, with a last comment saying why when one is given. */
  close(why?: string): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.lifetime);
    const { res } = this;
    if (!res.writableEnded && !res.destroyed) {
      // The last comment is queued behind whatever is unread; if that never drains, the
      // socket is destroyed rather than held.
      res.end(why ? `: ${why}\n\n` : undefined);
      if (res.writableLength > MAX_SSE_BACKLOG_BYTES) res.destroy();
    }
    for (const handler of this.closeHandlers.splice(0)) handler();
  }

  private write(text: string): void {
    if (this.closed) return;
    if (this.res.writableLength > MAX_SSE_BACKLOG_BYTES) {
      this.close('dropped: not reading fast enough');
      return;
    }
    this.res.write(text);
  }
}
