import type { SseSink } from './sse-stream.js';

export type SseRefusal = 'too_many' | 'too_many_for_key';

/**
 * How many event streams a route holds open: `maxTotal` in all and `maxPerKey` per key (a
 * followed call). Each route asks before it opens a stream and answers a refusal with its own
 * status; a stream counts until it closes, however it closes.
 */
export class SseFollowerLimits {
  private total = 0;
  private readonly perKey = new Map<string, number>();

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerKey = maxTotal,
  ) {}

  /** Streams open now. */
  get size(): number {
    return this.total;
  }

  /** Why one more stream (for `key`) cannot be had now, if it cannot. */
  refusal(key = ''): SseRefusal | undefined {
    if (this.total >= this.maxTotal) return 'too_many';
    if ((this.perKey.get(key) ?? 0) >= this.maxPerKey) return 'too_many_for_key';
    return undefined;
  }

  /** Counts `stream` (under `key`) until it closes. */
  track(stream: SseSink, key = ''): void {
    this.total++;
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    stream.onClose(() => {
      this.total--;
      const left = (this.perKey.get(key) ?? 1) - 1;
      if (left > 0) this.perKey.set(key, left);
      else this.perKey.delete(key);
    });
  }
}
