import { StreamReplayMemory } from '../twilio/stream-replay-memory.js';
import type { CallDirectory } from './call-directory.js';

/**
 * "One stream per CallSid, ever" kept in the CallDirectory: this process's memory by default,
 * Redis in cluster mode, so a replayed webhook or `start` is refused on every instance and
 * across restarts (`SET NX EX`, TTL STREAM_REPLAY_MEMORY_S).
 */
export class SharedStreamReplayMemory extends StreamReplayMemory {
  constructor(
    private readonly directory: CallDirectory,
    private readonly ttlS: number,
  ) {
    super();
  }

  claimStream(callSid: string): Promise<boolean> {
    return this.directory.remember('stream-started', callSid, this.ttlS);
  }

  hasStream(callSid: string): Promise<boolean> {
    return this.directory.recalls('stream-started', callSid);
  }

  allowNewStream(callSid: string): Promise<void> {
    return this.directory.forget('stream-started', callSid);
  }
}
