import type { CallEventBus } from '../events/call-event-bus.js';
import { HistoryEvent } from './history.constants.js';
import type { HistoryWriter, HistoryWriterLog } from './history-writer.js';
import type { LiveCallCheck } from './live-call-check.js';

/**
 * How long a call erased by another instance is remembered here, so that its record, should it
 * come only now (its call ended here as the erasure was asked), is not written: an hour, as the
 * registry remembers an ended call's sid.
 */
export const ERASED_ELSEWHERE_MEMORY_MS = 60 * 60 * 1000;
/** Erased calls remembered at most; beyond it the oldest are forgotten first. */
export const MAX_ERASED_ELSEWHERE = 10_000;

/**
 * An erasure served by another instance, completed here. The instance that served it could
 * erase only what it holds and what is shared; the call may have ended here a moment before,
 * its record still in this writer's queue (or being written) and its recording still being
 * finished or uploaded. What this instance holds of the call goes too, and a record of it that
 * comes later is not written.
 */
export class ErasedElsewhere {
  /** callSid -> when the erasure was heard; insertion order is expiry order. */
  private readonly heardAt = new Map<string, number>();

  constructor(
    private readonly writer: HistoryWriter,
    private readonly live: LiveCallCheck,
    private readonly events: CallEventBus,
    private readonly log: HistoryWriterLog,
    private readonly now: () => number = Date.now,
  ) {}

  /** Another instance erased the call. */
  heard(callSid: string): void {
    if (this.live.isLiveHere(callSid)) {
      // It was not live when the erasure checked: it started since, and is not what was erased.
      this.log.warn(`call ${callSid} was erased elsewhere while it is live here: it is kept`);
      return;
    }
    this.remember(callSid);
    if (this.writer.holds(callSid)) this.eraseRecord(callSid, false);
    // The recordings' own erasure (the same as here): marks one being finished or uploaded,
    // deletes what is on this disk; the shared store's copy was deleted already, so again.
    this.events.emitAsync(HistoryEvent.Erased, { callSid }).catch((error: Error) => {
      this.log.error(`erasure of call ${callSid} (asked elsewhere): ${error.message}`);
    });
  }

  /**
   * Whether the record of a call that ends now is dropped: its call was erased elsewhere after
   * it started. Its open row goes then.
   */
  dropsRecord(callSid: string, startedAt: string): boolean {
    this.prune();
    const heard = this.heardAt.get(callSid);
    if (heard === undefined || !(Date.parse(startedAt) <= heard)) return false;
    this.eraseRecord(callSid, true);
    return true;
  }

  private eraseRecord(callSid: string, ended: boolean): void {
    this.writer.erase(callSid, ended).then(
      () =>
        this.log.log(`call ${callSid} erased from the history (the erasure was asked elsewhere)`),
      (error: Error) =>
        this.log.error(`erasure of call ${callSid} (asked elsewhere): ${error.message}`),
    );
  }

  private remember(callSid: string): void {
    this.heardAt.delete(callSid);
    this.heardAt.set(callSid, this.now());
    this.prune();
  }

  private prune(): void {
    const oldest = this.now() - ERASED_ELSEWHERE_MEMORY_MS;
    for (const [callSid, at] of this.heardAt) {
      if (at > oldest && this.heardAt.size <= MAX_ERASED_ELSEWHERE) break;
      this.heardAt.delete(callSid);
    }
  }
}
