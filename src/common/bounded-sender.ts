/** The part of a `ws` WebSocket a BoundedSender needs. */
export interface TextSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
}

const OPEN = 1;
const FLUSH_INTERVAL_MS = 20;

/**
 * Sends text frames without letting a slow reader grow memory. Frames go straight to the socket
 * while its send buffer is under `highWaterBytes`; past that they wait in a backlog of at most
 * `maxBacklog` frames, the oldest dropped (and counted) first, since stale audio is worth less
 * than fresh audio. A timer runs only while a backlog exists.
 */
export class BoundedSender {
  dropped = 0;
  private backlog: string[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly socket: TextSocket,
    private readonly highWaterBytes: number,
    private readonly maxBacklog: number,
  ) {}

  get backlogLength(): number {
    return this.backlog.length;
  }

  send(text: string): void {
    if (this.socket.readyState !== OPEN) return;
    if (this.backlog.length === 0 && this.socket.bufferedAmount <= this.highWaterBytes) {
      this.socket.send(text);
      return;
    }
    if (this.backlog.push(text) > this.maxBacklog) {
      this.backlog.shift();
      this.dropped++;
    }
    this.timer ??= setInterval(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  /** Stops the flush timer and forgets the backlog. */
  dispose(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.backlog = [];
  }

  private flush(): void {
    if (this.socket.readyState !== OPEN) return this.dispose();
    let sent = 0;
    while (sent < this.backlog.length && this.socket.bufferedAmount <= this.highWaterBytes) {
      this.socket.send(this.backlog[sent++]);
    }
    this.backlog.splice(0, sent);
    if (this.backlog.length === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
