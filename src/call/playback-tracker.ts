/** An assistant audio item, as far as Twilio has played it to the caller. */
interface ItemPlayback {
  itemId: string;
  responseId: string;
  contentIndex: number;
  /** Milliseconds of this item sent to Twilio. */
  sentMs: number;
  /** Milliseconds of this item Twilio confirmed as played (its marks echoed). */
  heardMs: number;
}

interface PendingMark {
  item: ItemPlayback;
  /** `heardMs` once this mark echoes; `undefined` for the item's final mark. */
  audioEndMs?: number;
}

export interface PlaybackCut {
  itemId: string;
  responseId: string;
  contentIndex: number;
  audioEndMs: number;
}

/**
 * Knows how much of each assistant item the caller has actually heard. Twilio echoes a `mark`
 * only once the audio sent before it has played, so each chunk of audio is followed by a mark
 * carrying the item's running total, and an echo moves `heardMs` forward. An item's final mark
 * (after `response.output_audio.done`) echoing means it was heard to the end and can be
 * forgotten: it must never be truncated afterwards.
 */
export class PlaybackTracker {
  private readonly items = new Map<string, ItemPlayback>();
  private readonly marks = new Map<string, PendingMark>();
  private sequence = 0;

  /** True while some assistant audio has been sent and not yet fully played. */
  get isPlaying(): boolean {
    return this.items.size > 0;
  }

  /** Records audio sent to Twilio; returns the name of the mark to send right after it. */
  sent(itemId: string, responseId: string, contentIndex: number, ms: number): string {
    let item = this.items.get(itemId);
    if (!item) {
      item = { itemId, responseId, contentIndex, sentMs: 0, heardMs: 0 };
      this.items.set(itemId, item);
    }
    item.sentMs += ms;
    return this.addMark({ item, audioEndMs: item.sentMs });
  }

  /** The item's audio is complete; returns the name of its final mark, if it is playing. */
  finished(itemId: string): string | undefined {
    const item = this.items.get(itemId);
    return item ? this.addMark({ item }) : undefined;
  }

  /** Twilio echoed a mark. Unknown names (echoes flushed by a `clear`) are ignored. */
  acknowledge(name: string): void {
    const mark = this.marks.get(name);
    if (!mark) return;
    this.marks.delete(name);
    const { item } = mark;
    if (mark.audioEndMs === undefined) {
      item.heardMs = item.sentMs;
      this.forget(item);
    } else {
      item.heardMs = Math.max(item.heardMs, mark.audioEndMs);
    }
  }

  /**
   * The caller barged in: every item still playing is cut where the caller stopped hearing it
   * (never beyond what was sent, which the Realtime API would reject), and all pending marks are
   * dropped, since Twilio's `clear` flushes them back unheard.
   */
  interrupt(): PlaybackCut[] {
    const cuts = [...this.items.values()].map((item) => ({
      itemId: item.itemId,
      responseId: item.responseId,
      contentIndex: item.contentIndex,
      audioEndMs: Math.floor(Math.min(item.heardMs, item.sentMs)),
    }));
    this.items.clear();
    this.marks.clear();
    return cuts;
  }

  private addMark(mark: PendingMark): string {
    const name = `m${++this.sequence}`;
    this.marks.set(name, mark);
    return name;
  }

  private forget(item: ItemPlayback): void {
    this.items.delete(item.itemId);
    for (const [name, mark] of this.marks) if (mark.item === item) this.marks.delete(name);
  }
}
