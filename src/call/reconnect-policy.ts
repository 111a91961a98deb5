import { ConnectDeadline } from '../realtime/connect-deadline.js';

/**
 * Waits before each further connection of one episode (a call's first connect, or the loss of a
 * session that had been up): growing, so a failing upstream is not hammered.
 */
export const RECONNECT_BACKOFF_MS = [250, 750, 1500, 3000, 3000] as const;
/**
 * Connections one episode may open, the first included (six). The episode's deadline
 * (OPENAI_CONNECT_DEADLINE_MS) usually ends it first when attempts hang: 6 attempts of
 * OPENAI_CONNECT_TIMEOUT_MS each plus 8.5 s of backoff would be 38.5 s of dead air.
 */
export const MAX_CONNECTIONS_PER_EPISODE = RECONNECT_BACKOFF_MS.length + 1;
/**
 * A session that stays up this long counts as a success: its later loss starts a fresh episode.
 * One that drops sooner (accepted and reset, or `session_expired` at once) is a failed attempt.
 */
export const STABLE_SESSION_MS = 5000;

/**
 * Reconnect with memory: counts the connections of one episode, bounds the episode's time
 * (ConnectDeadline), and says how long to wait before the next connection, or that there must be
 * no next one. Time comes from the caller (tests drive it).
 */
export class ReconnectPolicy {
  private connections = 0;
  private openedAt?: number;
  private readonly deadline: ConnectDeadline;

  /** `deadlineMs`: the most one episode may last, from its first connection to the fallback. */
  constructor(deadlineMs: number) {
    this.deadline = new ConnectDeadline(deadlineMs);
  }

  /** Connections opened in this episode so far. */
  get attempts(): number {
    return this.connections;
  }

  /**
   * A connection is being opened now. Returns how long it may take to open: the smaller of
   * `attemptTimeoutMs` and the time left in the episode (the first connection starts the clock).
   */
  connecting(now: number, attemptTimeoutMs: number): number {
    if (this.connections === 0) this.deadline.start(now);
    this.connections++;
    this.openedAt = undefined;
    return this.deadline.attemptTimeout(now, attemptTimeoutMs);
  }

  /** The connection just opened (the session exists). */
  opened(now: number): void {
    this.openedAt = now;
  }

  /**
   * The connection ended (it never opened, dropped, or its session expired). Returns the delay
   * before the next connection, or undefined when the episode has used all its connections or
   * would be out of time before the next one could start.
   */
  next(now: number): number | undefined {
    if (this.openedAt !== undefined && now - this.openedAt >= STABLE_SESSION_MS) {
      // A loss after a good while up is a new episode, with all its attempts and all its time;
      // the first at once.
      this.connections = 0;
      this.openedAt = undefined;
      return 0;
    }
    this.openedAt = undefined;
    if (this.connections >= MAX_CONNECTIONS_PER_EPISODE) return undefined;
    const delay =
      RECONNECT_BACKOFF_MS[Math.min(this.connections, RECONNECT_BACKOFF_MS.length) - 1] ?? 0;
    return this.deadline.allows(now, delay) ? delay : undefined;
  }

  /** Milliseconds the episode has lasted (for the give-up message). */
  elapsed(now: number): number {
    return this.deadline.elapsed(now);
  }
}
