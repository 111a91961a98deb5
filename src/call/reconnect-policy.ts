/**
 * Waits before each further connection of one episode (a call's first connect, or the loss of a
 * session that had been up): growing, so a failing upstream is not hammered.
 */
export const RECONNECT_BACKOFF_MS = [250, 750, 1500, 3000, 3000] as const;
/**
 * Connections one episode may open, the first included. With the backoff above the call reaches
 * its fallback (or ends) within ~9 s of the loss, however the upstream fails.
 */
export const MAX_CONNECTIONS_PER_EPISODE = RECONNECT_BACKOFF_MS.length + 1;
/**
 * A session that stays up this long counts as a success: its later loss starts a fresh episode.
 * One that drops sooner (accepted and reset, or `session_expired` at once) is a failed attempt.
 */
export const STABLE_SESSION_MS = 5000;

/**
 * Reconnect with memory: counts the connections of one episode and says how long to wait before
 * the next one, or that there must be no next one. Time comes from the caller (tests drive it).
 */
export class ReconnectPolicy {
  private connections = 0;
  private openedAt?: number;

  /** Connections opened in this episode so far. */
  get attempts(): number {
    return this.connections;
  }

  /** A connection is being opened now. */
  connecting(): void {
    this.connections++;
    this.openedAt = undefined;
  }

  /** The connection just opened (the session exists). */
  opened(now: number): void {
    this.openedAt = now;
  }

  /**
   * The connection ended (it never opened, dropped, or its session expired). Returns the delay
   * before the next connection, or undefined when the episode has used all its connections.
   */
  next(now: number): number | undefined {
    if (this.openedAt !== undefined && now - this.openedAt >= STABLE_SESSION_MS) {
      // A loss after a good while up is a new episode, with all its attempts; the first at once.
      this.connections = 0;
      this.openedAt = undefined;
      return 0;
    }
    this.openedAt = undefined;
    if (this.connections >= MAX_CONNECTIONS_PER_EPISODE) return undefined;
    return RECONNECT_BACKOFF_MS[Math.min(this.connections, RECONNECT_BACKOFF_MS.length) - 1] ?? 0;
  }
}
