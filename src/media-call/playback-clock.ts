/** One assistant audio item in Twilio's playback queue. */
interface QueuedItem {
  itemId: string;
  responseId: string;
  contentIndex: number;
  /** Queue position (ms since the queue was last empty or cleared) of its first audio. */
  startMs: number;
  /** Milliseconds of it sent to Twilio. */
  sentMs: number;
  /**
   * Stretches of it dropped under backpressure (never reached Twilio): where in the queue, and
   * how long. The item's own audio still has them, so a cut after one is further into the item
   * than into the queue. Usually none.
   */
  drops?: Array<{ atMs: number; ms: number }>;
}

interface PendingMark {
  /** Queue position the mark sits at: everything before it has played when it echoes. */
  positionMs: number;
  /** Set on an item's final mark: its echo means the item was heard to the end. */
  finalOf?: QueuedItem;
}

export interface PlaybackCut {
  itemId: string;
  responseId: string;
  contentIndex: number;
  audioEndMs: number;
}

export interface PlaybackInterruption {
  cuts: PlaybackCut[];
  /** Marks Twilio will send back at once when it handles the `clear`. */
  flushedMarks: string[];
}

/** A mark every this much audio: enough for the clock, a fifth of the echoes of one per 20 ms. */
export const MARK_INTERVAL_MS = 100;

/**
 * How much of each assistant item the caller has heard, as a clock. Twilio plays the audio we
 * send in order and in real time, and echoes a `mark` once the audio before it has played. So
 * the queue position at any moment is the position of the last echoed mark plus the time since
 * that echo, capped at the next mark not yet echoed (playback may have stalled) and at what was
 * sent. Before any echo the clock runs from when audio was queued while the queue was empty,
 * because Twilio starts playing on arrival. Unlike a mark-only tracker, which is up to a whole
 * delta short (OpenAI sends deltas of hundreds of ms), this is exact to the echo's travel time at
 * any delta size, so marks are needed only every MARK_INTERVAL_MS of audio, plus each item's
 * final mark: its echo is the one sure sign that the item was heard to the end (the goodbye
 * before a hang-up waits for it).
 *
 * Whoever places the audio in time (CallAudioTap) asks `playsAt`, not the position: the
 * position stops at a mark not yet echoed and jumps when a late echo arrives, while Twilio plays
 * a run of queued audio without a break. So the clock dates only the start of a run (audio sent
 * to a queue that had run dry), and each piece of it plays right after the one before.
 */
export class PlaybackClock {
  private readonly items = new Map<string, QueuedItem>();
  /** In queue order (Maps iterate in insertion order), as Twilio echoes them. */
  private readonly marks = new Map<string, PendingMark>();
  private queued = 0;
  private anchorMs = 0;
  private anchorAt: number;
  private lastMarkMs = 0;
  private sequence = 0;
  private runs = 0;
  /** Where the current run began: its queue position, and when it started playing. */
  private runStartMs = 0;
  private runStartAt = 0;

  constructor(
    /** An item's final mark echoed: the caller heard it to the end. */
    private readonly onItemHeard: (itemId: string) => void = () => undefined,
    private readonly now: () => number = () => performance.now(),
    private readonly markIntervalMs = MARK_INTERVAL_MS,
  ) {
    this.anchorAt = now();
  }

  /** True while some audio sent to Twilio is not known to have played out. */
  get isPlaying(): boolean {
    return this.items.size > 0 || this.marks.size > 0;
  }

  /**
   * The current run (a number): audio Twilio plays back to back, without a gap. A new run begins
   * only when audio is sent to a queue that has run dry (it starts playing as it arrives),
   * including the first audio after a `clear`; within a run each piece plays right after the
   * one before it, whatever the echoes' travel times.
   */
  get run(): number {
    return this.runs;
  }

  /** Queue position (ms) the next audio sent will start at. */
  get queuedMs(): number {
    return this.queued;
  }

  /** Queue position the caller has reached, in ms. */
  positionMs(at = this.now()): number {
    let cap = this.queued;
    for (const mark of this.marks.values()) {
      cap = Math.min(cap, mark.positionMs);
      break;
    }
    return Math.max(this.anchorMs, Math.min(this.anchorMs + (at - this.anchorAt), cap));
  }

  /**
   * When (performance.now()) the audio at queue position `positionMs` of the current run plays:
   * the run's start plus the audio before it, so pieces of one run are dated back to back.
   */
  playsAt(positionMs: number): number {
    return this.runStartAt + (positionMs - this.runStartMs);
  }

  /** Milliseconds of this item the caller has heard so far (in the item's own audio). */
  heardMs(itemId: string, at = this.now()): number {
    const item = this.items.get(itemId);
    return item ? heardOf(item, this.positionMs(at)) : 0;
  }

  /**
   * Audio is being sent to Twilio. Returns the name of a mark to send right after it, when one
   * is due.
   */
  sent(
    itemId: string,
    responseId: string,
    contentIndex: number,
    ms: number,
    at = this.now(),
  ): string | undefined {
    this.reanchorIfDry(at);
    let item = this.items.get(itemId);
    if (!item) {
      item = { itemId, responseId, contentIndex, startMs: this.queued, sentMs: 0 };
      this.items.set(itemId, item);
    }
    item.sentMs += ms;
    this.queued += ms;
    if (this.queued - this.lastMarkMs < this.markIntervalMs) return undefined;
    return this.addMark({ positionMs: this.queued });
  }

  /**
   * Audio of no model item (an operator speaking during a takeover) is being sent: it takes its
   * place in Twilio's queue, so the clock (and whoever hears the call through it) stays true,
   * but nothing of it can be truncated. Returns a mark to send after it, when one is due.
   */
  sentUntracked(ms: number, at = this.now()): string | undefined {
    this.reanchorIfDry(at);
    this.queued += ms;
    if (this.queued - this.lastMarkMs < this.markIntervalMs) return undefined;
    return this.addMark({ positionMs: this.queued });
  }

  /** The item's audio is complete; returns the name of its final mark, if it is queued. */
  finished(itemId: string): string | undefined {
    const item = this.items.get(itemId);
    return item ? this.addMark({ positionMs: this.queued, finalOf: item }) : undefined;
  }

  /**
   * Twilio echoed a mark: the caller has just reached its position. Returns false for a name
   * not pending (an echo of a mark a `clear` flushed).
   */
  acknowledge(name: string, at = this.now()): boolean {
    const mark = this.marks.get(name);
    if (!mark) return false;
    // Echoes come in queue order: any mark before this one has played too.
    for (const [pending, earlier] of this.marks) {
      this.marks.delete(pending);
      if (earlier.finalOf) {
        this.items.delete(earlier.finalOf.itemId);
        this.onItemHeard(earlier.finalOf.itemId);
      }
      if (pending === name) break;
    }
    this.anchorMs = mark.positionMs;
    this.anchorAt = at;
    return true;
  }

  /**
   * The caller barged in and Twilio is told to `clear`: each item still queued is cut where the
   * caller stopped hearing it (never beyond what was sent, which the Realtime API would reject;
   * 0 for an item still waiting its turn), and the queue starts again empty.
   */
  interrupt(at = this.now()): PlaybackInterruption {
    const position = this.positionMs(at);
    const cuts = [...this.items.values()].map((item) => ({
      itemId: item.itemId,
      responseId: item.responseId,
      contentIndex: item.contentIndex,
      audioEndMs: Math.floor(heardOf(item, position)),
    }));
    const flushedMarks = [...this.marks.keys()];
    this.items.clear();
    this.marks.clear();
    this.queued = 0;
    this.lastMarkMs = 0;
    this.anchorMs = 0;
    this.anchorAt = at;
    return { cuts, flushedMarks };
  }

  /**
   * The Realtime session was replaced: its items can no longer be truncated, so they are
   * forgotten, while the audio already at Twilio plays on and the clock keeps running over it.
   */
  forgetItems(): void {
    this.items.clear();
    for (const mark of this.marks.values()) mark.finalOf = undefined;
  }

  /**
   * Audio sent at queue position `startMs` (`ms` of it, and the mark sent after it, if any) was
   * dropped under backpressure and never reached Twilio: the queue closes up behind it, so the
   * clock runs over what Twilio really holds. An item it belonged to keeps it in its own audio
   * (a later cut is that much further into the item), and is never truncated beyond what
   * reached Twilio.
   */
  dropped(startMs: number, ms: number): void {
    const endMs = startMs + ms;
    const shift = (positionMs: number) =>
      positionMs >= endMs ? positionMs - ms : Math.min(positionMs, startMs);
    for (const [name, mark] of this.marks) {
      // Its own mark (a final mark is a frame of its own, and is never dropped with audio).
      if (mark.positionMs === endMs && !mark.finalOf) this.marks.delete(name);
      else mark.positionMs = shift(mark.positionMs);
    }
    for (const item of this.items.values()) {
      for (const drop of item.drops ?? []) drop.atMs = shift(drop.atMs);
      if (item.startMs >= endMs) {
        item.startMs -= ms;
      } else if (startMs < item.startMs + item.sentMs) {
        item.sentMs = Math.max(0, item.sentMs - ms);
        // Oldest first: the next drop is where the last one was, and joins it.
        const last = item.drops?.at(-1);
        if (last?.atMs === startMs) last.ms += ms;
        else (item.drops ??= []).push({ atMs: startMs, ms });
      }
    }
    this.queued -= ms;
    this.lastMarkMs = shift(this.lastMarkMs);
    this.anchorMs = shift(this.anchorMs);
    this.runStartMs = shift(this.runStartMs);
  }

  /** Twilio's queue has run dry: audio sent now starts playing as it arrives, a new run. */
  private reanchorIfDry(at: number): void {
    if (this.positionMs(at) < this.queued) return;
    this.anchorMs = this.queued;
    this.anchorAt = at;
    this.runs++;
    this.runStartMs = this.queued;
    this.runStartAt = at;
  }

  private addMark(mark: PendingMark): string {
    const name = `m${(++this.sequence).toString(36)}`;
    this.marks.set(name, mark);
    this.lastMarkMs = mark.positionMs;
    return name;
  }
}

/**
 * How far into `item`'s own audio the caller got by queue position `positionMs`: never before its
 * start nor beyond what of it reached Twilio, plus any stretch of it dropped before that point
 * (the caller skipped it).
 */
function heardOf(item: QueuedItem, positionMs: number): number {
  const played = Math.min(Math.max(positionMs - item.startMs, 0), item.sentMs);
  if (!item.drops) return played;
  let heard = played;
  for (const drop of item.drops) if (drop.atMs < item.startMs + played) heard += drop.ms;
  return heard;
}
