import { HISTORY_SHUTDOWN_FLUSH_MS } from './history/history.constants.js';
import { CALLS_API_DEADLINE_MS } from './sip-call/sip.constants.js';

/**
 * The last step: sockets on peers that never answer a close (an OpenAI socket that hangs) are
 * left behind after this, and Redis is closed within it (REDIS_CLOSE_MS).
 */
export const SOCKETS_CLOSE_MS = 4_000;

/**
 * What a shutdown still does once SHUTDOWN_DRAIN_S is over, one step after the other, each within
 * a bound of its own. The forced exit waits for all of them: with a fixed 4 s, a call that stayed
 * up the whole drain left the history's flush (which starts only after it) no time, and its
 * records were lost without a line.
 */
export const SHUTDOWN_STEPS_AFTER_DRAIN_MS = {
  /** The SIP calls the drain closed are hung up (CallDrainService waits for the answers). */
  sipHangUps: CALLS_API_DEADLINE_MS,
  /** The closed calls' records are written, or logged with their CallSids as lost. */
  historyFlush: HISTORY_SHUTDOWN_FLUSH_MS,
  sockets: SOCKETS_CLOSE_MS,
} as const;

/** SHUTDOWN_DRAIN_S + this is the latest a SIGTERM (or a crash's drain) ends the process. */
export const EXIT_GRACE_MS = Object.values(SHUTDOWN_STEPS_AFTER_DRAIN_MS).reduce(
  (sum, ms) => sum + ms,
  0,
);

/** From SIGTERM to the forced exit. */
export function forcedExitMs(shutdownDrainS: number): number {
  return shutdownDrainS * 1000 + EXIT_GRACE_MS;
}
