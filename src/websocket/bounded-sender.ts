/** The part of a `ws` WebSocket a BoundedSender needs: its public API only. */
export interface TextSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
}

const OPEN = 1;
const FLUSH_INTERVAL_MS = 20;

/** A frame of the backlog: audio and its mark travel (and are dropped) together. */
type Queued = string | readonly [string, string];

/**
 * Sends text frames without letting a slow reader grow memory. Frames go to `ws`'s `send`
 * while the socket's `bufferedAmount` is under `highWaterBytes`; past that they wait in a
 * backlog of at most `maxBacklog` frames, the oldest audio dropped (and counted) first, since
 * stale audio is worth less than fresh audio. A timer runs only while a backlog exists.
 *
 * Framing and masking are `ws`'s: a client's frames carry a fresh random key (RFC 6455 section
 * 5.3). `ws` has no public way to hold writes until the tick ends, so each frame is its own
 * write; a pair is two `send`s in a row, queued and dropped as one.
 */
export class BoundedSender {
  /** Frames dropped (a pair counts as its two frames). */
  dropped = 0;
  private backlog: Queued[] = [];
  private backlogFrames = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly socket: TextSocket,
    private readonly highWaterBytes: number,
    private readonly maxBacklog: number,
  ) {}

  /** Frames waiting (a pair counts as two). */
  get backlogLength(): number {
    return this.backlogFrames;
  }

  send(data: string): void {
    if (this.socket.readyState !== OPEN) return;
    if (this.backlog.length === 0 && this.socket.bufferedAmount <= this.highWaterBytes) {
      this.socket.send(data);
      return;
    }
    this.enqueue(data);
  }

  /**
   * Two frames that belong together (a chunk of audio and the mark after it): sent one after
   * the other when the socket keeps up; under backpressure queued, and dropped, as one.
   */
  sendPair(first: string, second: string): void {
    if (this.socket.readyState !== OPEN) return;
    if (this.backlog.length === 0 && this.socket.bufferedAmount <= this.highWaterBytes) {
      this.socket.send(first);
      this.socket.send(second);
      return;
    }
    this.enqueue([first, second]);
  }

  /** Stops the flush timer and forgets the backlog. */
  dispose(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.backlog = [];
    this.backlogFrames = 0;
  }

  private enqueue(entry: Queued): void {
    this.backlog.push(entry);
    this.backlogFrames += frameCount(entry);
    while (this.backlogFrames > this.maxBacklog && this.backlog.length > 1) this.dropOldest();
    this.timer ??= setInterval(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  /**
   * Drops the oldest audio: the oldest pair if there is one (a lone frame may be a mark, which
   * the playback tracker waits for, or a `clear`), else the oldest frame.
   */
  private dropOldest(): void {
    let index = this.backlog.findIndex((entry) => Array.isArray(entry));
    if (index < 0) index = 0;
    const [entry] = this.backlog.splice(index, 1);
    const frames = frameCount(entry);
    this.backlogFrames -= frames;
    this.dropped += frames;
  }

  private flush(): void {
    if (this.socket.readyState !== OPEN) return this.dispose();
    let sent = 0;
    while (sent < this.backlog.length && this.socket.bufferedAmount <= this.highWaterBytes) {
      const entry = this.backlog[sent++];
      if (typeof entry === 'string') {
        this.socket.send(entry);
      } else {
        this.socket.send(entry[0]);
        this.socket.send(entry[1]);
      }
      this.backlogFrames -= frameCount(entry);
    }
    this.backlog.splice(0, sent);
    if (this.backlog.length === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

function frameCount(entry: Queued): number {
  return typeof entry === 'string' ? 1 : 2;
}
