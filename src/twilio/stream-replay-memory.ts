/**
 * Which CallSids have had a stream, so that each call gets one stream, ever: a replayed webhook
 * gets no second `<Stream>`, and a replayed `start` (a captured token used again, even inside its
 * lifetime) is refused. Behind this interface so a shared store (the cluster work) can replace the
 * in-memory one; code above it never knows which.
 */
export abstract class StreamReplayMemory {
  /**
   * Claims the one stream of this call: true the first time (or after `allowNewStream`), false
   * when a stream for it has started before.
   */
  abstract claimStream(callSid: string): Promise<boolean>;
  /** True when a stream for this call has started (live or ended) and no new one is allowed. */
  abstract hasStream(callSid: string): Promise<boolean>;
  /**
   * The bridge itself moves this call to a new stream (a redirect to fresh TwiML of ours): its
   * next webhook and `start` are let through once.
   */
  abstract allowNewStream(callSid: string): Promise<void>;
}

/** Remembered entries beyond this are dropped, oldest first, so memory stays bounded. */
export const MAX_REMEMBERED_STREAMS = 1_000_000;

/**
 * This process's memory of streamed CallSids, each kept for `ttlMs` (at least a day: longer than
 * any call, and than any stream token). Insertion-ordered, so expiry only looks at the front.
 */
export class InMemoryStreamReplayMemory extends StreamReplayMemory {
  private readonly startedAt = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = MAX_REMEMBERED_STREAMS,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  get size(): number {
    return this.startedAt.size;
  }

  claimStream(callSid: string): Promise<boolean> {
    this.expire();
    if (this.startedAt.has(callSid)) return Promise.resolve(false);
    this.startedAt.set(callSid, this.now());
    while (this.startedAt.size > this.maxEntries) {
      const oldest = this.startedAt.keys().next().value as string;
      this.startedAt.delete(oldest);
    }
    return Promise.resolve(true);
  }

  hasStream(callSid: string): Promise<boolean> {
    this.expire();
    return Promise.resolve(this.startedAt.has(callSid));
  }

  allowNewStream(callSid: string): Promise<void> {
    this.startedAt.delete(callSid);
    return Promise.resolve();
  }

  private expire(): void {
    const now = this.now();
    for (const [sid, at] of this.startedAt) {
      if (now - at < this.ttlMs) break;
      this.startedAt.delete(sid);
    }
  }
}
