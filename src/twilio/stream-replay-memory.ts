import { Inject, Injectable } from '@nestjs/common';
import { CallDirectory } from '../directory/call-directory.js';
import { limitsConfig, type LimitsConfig } from '../config/config.namespaces.js';

/**
 * Which CallSids have had a stream, so that each call gets one stream, ever: a replayed webhook
 * gets no second `<Stream>`, and a replayed `start` (a captured token used again, even inside its
 * lifetime) is refused. Kept in the CallDirectory's memory for STREAM_REPLAY_MEMORY_S: this
 * process's by default, Redis's with REDIS_URL (then shared by every instance and kept across
 * restarts, `SET NX EX`); this class never knows which.
 */
@Injectable()
export class StreamReplayMemory {
  private readonly ttlS: number;

  constructor(
    private readonly directory: CallDirectory,
    @Inject(limitsConfig.KEY) limits: Pick<LimitsConfig, 'streamReplayMemoryS'>,
  ) {
    this.ttlS = limits.streamReplayMemoryS;
  }

  /**
   * Claims the one stream of this call: true the first time (or after `allowNewStream`), false
   * when a stream for it has started before.
   */
  claimStream(callSid: string): Promise<boolean> {
    return this.directory.remember('stream-started', callSid, this.ttlS);
  }

  /** True when a stream for this call has started (live or ended) and no new one is allowed. */
  hasStream(callSid: string): Promise<boolean> {
    return this.directory.recalls('stream-started', callSid);
  }

  /**
   * The bridge itself moves this call to a new stream (a redirect to fresh TwiML of ours): its
   * next webhook and `start` are let through once.
   */
  allowNewStream(callSid: string): Promise<void> {
    return this.directory.forget('stream-started', callSid);
  }
}
