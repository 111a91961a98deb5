import { ConflictException, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { CallRegistry } from '../call/call-registry.service.js';
import { CallDirectory } from '../directory/call-directory.js';

/** What an erasure of a live call answers (409): docs/history.md quotes it. */
export const LIVE_CALL_REFUSAL = 'the call is still live: erase it once it has ended';

/**
 * Whether a call is live here or on any instance of the cluster. An erasure must not touch a
 * live call: its recording is still being written (by whichever instance carries it), and its
 * record comes only when it ends, so erasing now would erase half of it and leave the rest.
 */
@Injectable()
export class LiveCallCheck {
  constructor(
    private readonly registry: CallRegistry,
    private readonly directory: CallDirectory,
  ) {}

  /** Whether the call is live on this instance. */
  isLiveHere(callSid: string): boolean {
    return this.registry.get(callSid) !== undefined;
  }

  /** 409 for a live call; 503 when the cluster's store cannot say (it may be live elsewhere). */
  async refuseLive(callSid: string): Promise<void> {
    const { partial } = await this.refuseListed(callSid);
    if (partial) {
      throw new ServiceUnavailableException(
        'the cluster store is not answering, so whether the call is live elsewhere cannot be told: nothing was erased; try again',
      );
    }
  }

  /**
   * Once more right before the recording is touched (the record's erasure may have waited
   * seconds for the database, and an outbound call has its CallSid while it rings): 409 for a
   * call that became live meanwhile. A store that cannot tell does not stop the erasure this
   * late: the instance carrying a live call keeps its recording (ErasedElsewhere).
   */
  async refuseLiveAgain(callSid: string): Promise<void> {
    await this.refuseListed(callSid);
  }

  private async refuseListed(callSid: string): Promise<{ partial: boolean }> {
    if (this.isLiveHere(callSid)) throw new ConflictException(LIVE_CALL_REFUSAL);
    const { calls, partial } = await this.directory.listing();
    if (calls.some((call) => call.callSid === callSid)) {
      throw new ConflictException(LIVE_CALL_REFUSAL);
    }
    return { partial };
  }
}
