/** The part of a `ws` WebSocket a BoundedSender needs: its public API only. */
export interface TextSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
}

const OPEN = 1;
const FLUSH_INTERVAL_MS = 20;

/** An entry of the backlog: a control frame, or audio with the mark that may follow it. */
interface Queued<Tag> {
  readonly frames: readonly string[];
  /** Audio may be dropped under backpressure (its mark with it); control frames are kept. */
  readonly audio: boolean;
  /** What the sender's owner said about this audio: handed back if it is dropped. */
  readonly tag?: Tag;
}

/**
 * Audio dropped under backpressure, never sent: its frames (the audio, then its mark if it had
 * one) and the tag it was sent with.
 */
export type DroppedAudio<Tag> = (frames: readonly string[], tag: Tag | undefined) => void;

/**
 * Sends text frames without letting a slow reader grow memory. Frames go to `ws`'s `send`
 * while the socket's `bufferedAmount` is under `highWaterBytes`; past that they wait in a
 * backlog of at most `maxBacklog` frames, the oldest audio dropped (and counted) first, since
 * stale audio is worth less than fresh audio, and a control frame (a mark the playback tracker
 * waits for, a `clear`) only when no audio is left to drop. A timer runs only while a backlog
 * exists.
 *
 * Framing and masking are `ws`'s: a client's frames carry a fresh random key (RFC 6455 section
 * 5.3). `ws` has no public way to hold writes until the tick ends, so each frame is its own
 * write; audio and its mark are two `send`s in a row, queued and dropped as one.
 *
 * Audio it drops is handed to `onDropped` with the tag it was sent with, so that whoever counted
 * it as sent (Twilio's playback clock, what listeners hear) can take it back.
 */
export class BoundedSender<Tag = never> {
  /** Frames dropped (audio and its mark count as two). */
  dropped = 0;
  private backlog: Queued<Tag>[] = [];
  private backlogFrames = 0;
  private timer?: NodeJS.Timeout;

  /**
   * `keepsControl`: control frames are never dropped, only audio; for a peer whose every other
   * frame matters (OpenAI: a tool's output, a `response.create`), and whose control frames the
   * sender's owner makes itself, each bounded. Without it, past `maxBacklog` a control frame goes
   * once no audio is left to drop.
   */
  constructor(
    private readonly socket: TextSocket,
    private readonly highWaterBytes: number,
    private readonly maxBacklog: number,
    private readonly onDropped?: DroppedAudio<Tag>,
    private readonly keepsControl = false,
  ) {}

  /** Frames waiting (audio and its mark count as two). */
  get backlogLength(): number {
    return this.backlogFrames;
  }

  /** A frame that is not audio (a mark, a `clear`, a message): dropped last. */
  send(data: string): void {
    if (this.sendsNow()) this.socket.send(data);
    else this.enqueue({ frames: [data], audio: false, tag: undefined });
  }

  /**
   * A chunk of audio and the mark after it, if any: sent one after the other when the socket
   * keeps up; under backpressure queued, and dropped oldest first, as one (`tag` then goes to
   * `onDropped`).
   */
  sendAudio(audio: string, mark?: string, tag?: Tag): void {
    if (!this.sendsNow()) {
      this.enqueue({ frames: mark === undefined ? [audio] : [audio, mark], audio: true, tag });
      return;
    }
    this.socket.send(audio);
    if (mark !== undefined) this.socket.send(mark);
  }

  /**
   * Forgets the audio still waiting (a `clear` is about to discard what the reader buffered):
   * stale audio does not hold up, or push out, what comes after it. Not counted as dropped.
   */
  discardAudio(): void {
    if (this.backlog.length === 0) return;
    this.backlog = this.backlog.filter((entry) => !entry.audio);
    this.backlogFrames = 0;
    for (const entry of this.backlog) this.backlogFrames += entry.frames.length;
  }

  /** Stops the flush timer and forgets the backlog. */
  dispose(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.backlog = [];
    this.backlogFrames = 0;
  }

  private sendsNow(): boolean {
    if (this.socket.readyState !== OPEN) return false;
    return this.backlog.length === 0 && this.socket.bufferedAmount <= this.highWaterBytes;
  }

  private enqueue(entry: Queued<Tag>): void {
    if (this.socket.readyState !== OPEN) return;
    this.backlog.push(entry);
    this.backlogFrames += entry.frames.length;
    while (this.backlogFrames > this.maxBacklog && this.backlog.length > 1 && this.dropOldest());
    this.timer ??= setInterval(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  /**
   * Drops the oldest audio (with its mark), or the oldest frame when no audio waits and control
   * frames may go. False when nothing may be dropped.
   */
  private dropOldest(): boolean {
    let index = this.backlog.findIndex((entry) => entry.audio);
    if (index < 0 && this.keepsControl) return false;
    if (index < 0) index = 0;
    const [entry] = this.backlog.splice(index, 1);
    this.backlogFrames -= entry.frames.length;
    this.dropped += entry.frames.length;
    if (entry.audio) this.onDropped?.(entry.frames, entry.tag);
    return true;
  }

  private flush(): void {
    if (this.socket.readyState !== OPEN) return this.dispose();
    let sent = 0;
    while (sent < this.backlog.length && this.socket.bufferedAmount <= this.highWaterBytes) {
      const entry = this.backlog[sent++];
      for (const frame of entry.frames) this.socket.send(frame);
      this.backlogFrames -= entry.frames.length;
    }
    this.backlog.splice(0, sent);
    if (this.backlog.length === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
