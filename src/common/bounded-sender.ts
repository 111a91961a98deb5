import { encodeTextFrame, encodeTextFramePair } from './ws-frame.js';

/** The part of a `ws` WebSocket a BoundedSender needs. */
export interface TextSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
}

/** What `ws` keeps as `_socket`: the net.Socket under the WebSocket, once it is open. */
interface ByteStream {
  write(chunk: Buffer): boolean;
  cork(): void;
  uncork(): void;
}

const OPEN = 1;
const FLUSH_INTERVAL_MS = 20;

/**
 * The TCP socket under a `ws` WebSocket, to write ready-made frames to it (see ws-frame.ts):
 * only when no extension was negotiated (a compressed connection needs ws's own framing). ws
 * writes nothing of its own between our frames except control frames, which it writes to the
 * same socket in order, and its `bufferedAmount` counts what this socket holds, so backpressure
 * reads the same. ws does not expose the socket publicly; without it, frames go through `send`.
 */
function byteStreamOf(socket: TextSocket): ByteStream | undefined {
  const { _socket: raw, extensions } = socket as {
    _socket?: Partial<ByteStream> | null;
    extensions?: unknown;
  };
  if (extensions !== '' || typeof raw?.write !== 'function' || typeof raw.cork !== 'function') {
    return undefined;
  }
  return raw as ByteStream;
}

/** A frame of the backlog: audio and its mark travel (and are dropped) together. */
type Queued = string | readonly [string, string];

/**
 * Sends text frames without letting a slow reader grow memory. Frames go straight to the socket
 * while its send buffer is under `highWaterBytes`; past that they wait in a backlog of at most
 * `maxBacklog` frames, the oldest audio dropped (and counted) first, since stale audio is worth
 * less than fresh audio. A timer runs only while a backlog exists.
 */
export class BoundedSender {
  /** Frames dropped (a pair counts as its two frames). */
  dropped = 0;
  private backlog: Queued[] = [];
  private backlogFrames = 0;
  private timer?: NodeJS.Timeout;
  private stream?: ByteStream | null;
  /** Corked until the end of this tick: the frames sent meanwhile leave in one write. */
  private corked = false;

  /** `role`: a client masks its frames (with a zero key, see ws-frame.ts), a server does not. */
  constructor(
    private readonly socket: TextSocket,
    private readonly highWaterBytes: number,
    private readonly maxBacklog: number,
    private readonly role: 'client' | 'server',
  ) {}

  /** Frames waiting (a pair counts as two). */
  get backlogLength(): number {
    return this.backlogFrames;
  }

  send(data: string): void {
    if (this.socket.readyState !== OPEN) return;
    if (this.backlog.length === 0 && this.socket.bufferedAmount <= this.highWaterBytes) {
      this.write(data);
      return;
    }
    this.enqueue(data);
  }

  /**
   * Two frames that belong together (a chunk of audio and the mark after it), in one write to
   * the socket when it keeps up; under backpressure they are queued, and dropped, as one.
   */
  sendPair(first: string, second: string): void {
    if (this.socket.readyState !== OPEN) return;
    if (this.backlog.length === 0 && this.socket.bufferedAmount <= this.highWaterBytes) {
      this.writePair(first, second);
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

  /** One frame, in one write when the TCP socket is reachable. */
  private write(data: string): void {
    const stream = this.corkedStream();
    if (stream) stream.write(encodeTextFrame(data, this.role === 'client'));
    else this.socket.send(data);
  }

  /** Two frames, in one write: one system call, one wake-up of the peer. */
  private writePair(first: string, second: string): void {
    const stream = this.corkedStream();
    if (stream) {
      stream.write(encodeTextFramePair(first, second, this.role === 'client'));
    } else {
      this.socket.send(first);
      this.socket.send(second);
    }
  }

  /**
   * The TCP socket, corked until the current tick ends: frames sent in one tick (the audio
   * deltas of one read from OpenAI, a backlog flush) leave in one `writev`, with no wait, since
   * the tick ends as soon as the frames that arrived together are handled.
   */
  private corkedStream(): ByteStream | undefined {
    const stream = this.byteStream();
    if (stream && !this.corked) {
      this.corked = true;
      stream.cork();
      process.nextTick(this.uncork);
    }
    return stream;
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.stream?.uncork();
  };

  private byteStream(): ByteStream | undefined {
    // Looked up once the socket is open (a client's opens after this sender is made).
    if (this.stream === undefined) this.stream = byteStreamOf(this.socket) ?? null;
    return this.stream ?? undefined;
  }

  private flush(): void {
    if (this.socket.readyState !== OPEN) return this.dispose();
    let sent = 0;
    while (sent < this.backlog.length && this.socket.bufferedAmount <= this.highWaterBytes) {
      const entry = this.backlog[sent++];
      if (typeof entry === 'string') {
        this.write(entry);
        this.backlogFrames--;
      } else {
        this.writePair(entry[0], entry[1]);
        this.backlogFrames -= 2;
      }
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
