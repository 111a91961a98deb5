/**
 * Below this, an attempt is not worth starting: no TLS handshake and upgrade completes in less,
 * so the episode ends instead.
 */
export const MIN_ATTEMPT_MS = 100;

/**
 * The time bound of one connect episode (OPENAI_CONNECT_DEADLINE_MS): however each attempt fails
 * (an upgrade that never answers, resets, slow TLS), the episode ends within `deadlineMs` of its
 * first attempt, because each attempt gets at most the time left and none starts once too little
 * is left. Used by the media path's ReconnectPolicy and the SIP sideband. Time comes from the
 * caller.
 */
export class ConnectDeadline {
  private startedAt = 0;

  constructor(readonly deadlineMs: number) {}

  /** The episode's first attempt starts now. */
  start(now: number): void {
    this.startedAt = now;
  }

  /** Milliseconds left in the episode (0 when it is over). */
  left(now: number): number {
    return Math.max(0, this.startedAt + this.deadlineMs - now);
  }

  elapsed(now: number): number {
    return now - this.startedAt;
  }

  /** How long an attempt starting now may take: its own timeout or the time left, the smaller. */
  attemptTimeout(now: number, ownTimeoutMs: number): number {
    return Math.min(ownTimeoutMs, this.left(now));
  }

  /** Whether an attempt may start after waiting `delayMs` from now. */
  allows(now: number, delayMs: number): boolean {
    return this.left(now) - delayMs >= MIN_ATTEMPT_MS;
  }
}
