import type { z } from 'zod';
import type { ClusterChannels } from '../directory/cluster-channels.js';
import { TokenBucket } from '../media-call/media-rate-limiter.js';
import {
  LISTEN_RELAY_KEEPALIVE_MS,
  LISTEN_RELAY_MAX_BATCH_BYTES,
  LISTEN_RELAY_MAX_BATCH_FRAMES,
  LISTEN_RELAY_MAX_BYTES_PER_S,
  LISTEN_RELAY_MAX_QUEUED_FRAMES,
  LISTEN_RELAY_SILENCE_MS,
} from './listen.constants.js';
import type { Unnumbered } from './listen-relay.messages.js';

/** A queued frame's bytes on the bus beyond its text (quotes, escapes, the comma). */
const FRAME_OVERHEAD_BYTES = 16;
/** A message's own bytes beyond its frames (envelope, MAC, type, seq). */
const MESSAGE_OVERHEAD_BYTES = 160;
/** How soon a batch held back by the byte budget is tried again. */
const RETRY_MS = 20;

type Numbered = { type: string; seq: number };

/** What one session may put on the bus: bytes a second (and the burst), frames queued, batches. */
export interface RelayBounds {
  bytesPerS: number;
  maxQueuedFrames: number;
  batchFrames: number;
  batchBytes: number;
}

/** The listen relay's (listen.constants.ts): a listened call's audio, both ways. */
export const LISTEN_RELAY_BOUNDS: RelayBounds = {
  bytesPerS: LISTEN_RELAY_MAX_BYTES_PER_S,
  maxQueuedFrames: LISTEN_RELAY_MAX_QUEUED_FRAMES,
  batchFrames: LISTEN_RELAY_MAX_BATCH_FRAMES,
  batchBytes: LISTEN_RELAY_MAX_BATCH_BYTES,
};
type Frames<F> = { type: 'frames'; frames: F[] };

export interface RelayLinkHandler<In> {
  /** The next message from the peer, in order (never a `ping`). */
  message(message: In): void;
  /**
   * The link is over for `why`: 1008 when this side went past its bounds, 1011 otherwise (the
   * peer silent or gone, a lost message, the bus failed).
   */
  ended(why: string, code: 1008 | 1011): void;
}

/**
 * One relay session's link to its peer over the signed bus: messages out on one channel,
 * numbered from 0, frames batched within the session's bytes a second and queued at most
 * its bound deep (RelayBounds); messages in on the other, opened and validated, taken
 * strictly in order (a repeated one is dropped as a replay, a missing one ends the link). Pings
 * keep a quiet link alive; a peer silent for LISTEN_RELAY_SILENCE_MS is taken for dead.
 */
export class RelayLink<In extends Numbered, Out extends Numbered, F> {
  /** Bytes the link holds that the bus has not taken yet (the owner's socket backpressure). */
  queuedBytes = 0;
  private readonly queue: Array<{ frame: F; bytes: number } | { message: Unnumbered<Out> }> = [];
  private queuedFrames = 0;
  private readonly budget: TokenBucket;
  private nextOut = 0;
  private nextIn = 0;
  /** The message after which the link lets go (a `close`). */
  private last?: Unnumbered<Out>;
  private sentSinceTick = false;
  private flushing?: NodeJS.Immediate | NodeJS.Timeout;
  private keepalive?: NodeJS.Timeout;
  private silence?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private over = false;

  constructor(
    private readonly channels: ClusterChannels,
    private readonly outChannel: string,
    private readonly inChannel: string,
    private readonly inSchema: z.ZodType<In>,
    private readonly handler: RelayLinkHandler<In>,
    private readonly bounds: RelayBounds = LISTEN_RELAY_BOUNDS,
  ) {
    this.budget = new TokenBucket(bounds.bytesPerS, bounds.bytesPerS, performance.now());
  }

  /** Subscribes to the peer's channel (before anything is asked of it) and starts the timers. */
  async start(): Promise<void> {
    this.unsubscribe = await this.channels.subscribe(this.inChannel, (raw) => this.onRaw(raw));
    if (this.over) return this.unsubscribe();
    this.keepalive = setInterval(() => {
      if (!this.sentSinceTick) this.send({ type: 'ping' } as Unnumbered<Out>);
      this.sentSinceTick = false;
    }, LISTEN_RELAY_KEEPALIVE_MS);
    // A session never holds the process up: closing ends it anyway.
    this.keepalive.unref();
    this.heard();
  }

  /** A frame for the peer, batched with the frames next to it. */
  frame(frame: F, bytes: number): void {
    if (this.over || this.last) return;
    if (this.queuedFrames >= this.bounds.maxQueuedFrames) {
      return this.end(`more than ${this.bounds.maxQueuedFrames} frames waiting for the bus`, 1008);
    }
    const size = bytes + FRAME_OVERHEAD_BYTES;
    this.queue.push({ frame, bytes: size });
    this.queuedFrames++;
    this.queuedBytes += size;
    this.schedule();
  }

  /** A message for the peer, after the frames queued before it. */
  send(message: Unnumbered<Out>): void {
    if (this.over || this.last) return;
    this.queue.push({ message });
    this.schedule();
  }

  /** `message` last, after everything queued; then the link lets go (the handler is not told). */
  finish(message: Unnumbered<Out>): void {
    if (this.over || this.last) return;
    this.last = message;
    this.queue.push({ message });
    this.schedule();
  }

  /** Ends the link from this side at once (the handler is not told). */
  close(): void {
    this.over = true;
    this.dispose();
  }

  private end(why: string, code: 1008 | 1011 = 1011): void {
    if (this.over) return;
    this.over = true;
    this.dispose();
    this.handler.ended(why, code);
  }

  private dispose(): void {
    clearInterval(this.keepalive);
    clearTimeout(this.silence);
    if (this.flushing) {
      clearTimeout(this.flushing as NodeJS.Timeout);
      clearImmediate(this.flushing as NodeJS.Immediate);
    }
    this.unsubscribe?.();
    this.queue.length = 0;
    this.queuedFrames = 0;
    this.queuedBytes = 0;
  }

  private schedule(): void {
    this.flushing ??= setImmediate(() => this.flush());
  }

  /** Everything queued, in order, as far as the byte budget allows; the rest a moment later. */
  private flush(): void {
    this.flushing = undefined;
    while (!this.over && this.queue.length > 0) {
      const head = this.queue[0];
      if ('message' in head) {
        this.queue.shift();
        this.publish(head.message);
        if (head.message === this.last) return this.close();
        continue;
      }
      let count = 0;
      let bytes = MESSAGE_OVERHEAD_BYTES;
      while (
        count < this.queue.length &&
        count < this.bounds.batchFrames &&
        'frame' in this.queue[count]
      ) {
        const next = (this.queue[count] as { bytes: number }).bytes;
        if (count > 0 && bytes + next > this.bounds.batchBytes) break;
        bytes += next;
        count++;
      }
      if (!this.budget.take(bytes, performance.now())) {
        this.flushing = setTimeout(() => this.flush(), RETRY_MS);
        return;
      }
      const batch = this.queue.splice(0, count) as Array<{ frame: F; bytes: number }>;
      this.queuedFrames -= count;
      this.queuedBytes -= bytes - MESSAGE_OVERHEAD_BYTES;
      const message: Frames<F> = { type: 'frames', frames: batch.map((entry) => entry.frame) };
      this.publish(message as unknown as Unnumbered<Out>);
    }
  }

  private publish(message: Unnumbered<Out>): void {
    this.sentSinceTick = true;
    const numbered = { ...message, seq: this.nextOut++ };
    // One connection publishes in call order, so the peer reads them in `seq` order.
    void this.channels.publish(this.outChannel, numbered).then((receivers) => {
      if (this.over) return;
      if (receivers === undefined) this.end('the cluster bus failed');
      // Nobody on the peer's channel: the other side let go of the session.
      else if (receivers === 0) this.end('the peer left the session');
    });
  }

  private onRaw(raw: Buffer): void {
    if (this.over) return;
    const message = this.channels.open(this.inChannel, raw, this.inSchema);
    if (!message) return;
    if (message.seq < this.nextIn) return this.channels.replayed(this.inChannel);
    if (message.seq > this.nextIn) return this.end(`message ${this.nextIn} of the peer was lost`);
    this.nextIn++;
    this.heard();
    if (message.type !== 'ping') this.handler.message(message);
  }

  private heard(): void {
    clearTimeout(this.silence);
    this.silence = setTimeout(
      () => this.end(`nothing from the peer for ${LISTEN_RELAY_SILENCE_MS} ms`),
      LISTEN_RELAY_SILENCE_MS,
    );
    this.silence.unref();
  }
}
