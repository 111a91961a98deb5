import type WebSocket from 'ws';
import { TokenBucket, MediaRateLimiter } from '../media-call/media-rate-limiter.js';
import { BoundedSender, type TextSocket } from '../websocket/bounded-sender.js';
import { closeReason } from '../websocket/close-reason.js';
import { rawDataToString } from '../websocket/raw-data.js';
import type { ListenTarget } from './listen-access.js';
import {
  LISTEN_CLOSE_SETTLE_MS,
  LISTENER_HIGH_WATER_BYTES,
  LISTENER_MAX_BACKLOG_FRAMES,
  MAX_LISTEN_CLIENT_FRAMES_PER_S,
  MAX_LISTEN_CLIENT_IGNORED_FRAMES,
} from './listen.constants.js';
import { listenOutbound, parseListenMessage, type ListenClientMessage } from './listen.messages.js';

/** A dropped listener's close frame gets this long before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

/**
 * What a ListenSocket needs of its socket: a `ws` WebSocket, or the owner's end of one relayed
 * from another instance (RelayedSocket).
 */
export interface ListenPeer extends TextSocket {
  on(event: 'message', listener: (data: WebSocket.RawData, isBinary: boolean) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

/**
 * The console's sessions, as a listen socket opened by one needs them (ConsoleSessions): the
 * socket closes when its session ends, and a takeover or handback checks the session first.
 */
export interface ListenSessions {
  track(key: string, close: (why: string) => void): () => void;
  state(key: string): Promise<'live' | 'ended' | 'unknown'>;
}

/** Why a takeover is refused while the session cannot be checked (the cluster store is down). */
const SESSION_UNCHECKED = 'the console session cannot be checked now';

/** The listeners of one call, as each of them sees the others. */
export interface ListenGroup {
  /** A frame every listener of the call gets (takeover and handback acknowledgements). */
  broadcast(frame: string): void;
  leave(listener: ListenSocket): void;
  warn(message: string): void;
}

/**
 * One operator's listen socket on one call: the call's two tracks out as they are heard (the
 * call's CallAudioTap), through a bounded sender that drops a listener that does not read; and
 * the operator's requests in (take the line, speak on it, hand it back), bounded in size (ws's
 * maxPayload) and in rate. Its key to the line is itself: only the socket that took the line
 * speaks on it or hands it back, and closing hands it back (once the frames it sent before
 * closing were acted on, LISTEN_CLOSE_SETTLE_MS at most).
 */
export class ListenSocket {
  private readonly out: BoundedSender;
  private readonly frames: TokenBucket;
  /** The operator's audio, held to real time from the moment this socket took the line. */
  private audio?: MediaRateLimiter;
  private unsubscribe?: () => void;
  private untrack?: () => void;
  /** Takeover and handback frames waiting on their session check, acted on in order. */
  private controls: Promise<void> = Promise.resolve();
  private waitingControls = 0;
  private ignored = 0;
  private closed = false;
  /** Closed, and a line it held handed back: no frame still waiting may act from now on. */
  private released = false;

  constructor(
    private readonly socket: ListenPeer,
    private readonly target: ListenTarget,
    private readonly group: ListenGroup,
    private readonly sessions?: ListenSessions,
  ) {
    this.out = new BoundedSender(socket, LISTENER_HIGH_WATER_BYTES, LISTENER_MAX_BACKLOG_FRAMES);
    this.frames = new TokenBucket(
      MAX_LISTEN_CLIENT_FRAMES_PER_S,
      MAX_LISTEN_CLIENT_FRAMES_PER_S,
      performance.now(),
    );
    socket.on('message', this.guarded(this.onMessage));
    socket.on('close', this.guarded(this.closedByPeer));
    socket.on(
      'error',
      this.guarded((error: Error) => this.drop(1011, error.message)),
    );
  }

  /** `start` (with who holds the line now), then the call's audio from now on. */
  start(): void {
    const { session } = this.target;
    if (session && this.sessions) {
      this.untrack = this.sessions.track(session, (why) => this.drop(1008, why));
    }
    const line = this.target.takeover.holder ? 'operator' : 'assistant';
    this.out.send(listenOutbound.start(this.target.callSid, line));
    this.unsubscribe = this.target.tap.listen({
      callerAudio: (mulaw, atMs) => this.send(listenOutbound.media('caller', atMs, mulaw)),
      assistantAudio: (mulaw, atMs) => this.send(listenOutbound.media('assistant', atMs, mulaw)),
      ended: () => this.stop(),
    });
  }

  /** A frame to this listener (audio, or an acknowledgement); one that fell behind is dropped. */
  send(frame: string): void {
    if (this.closed) return;
    this.out.send(frame);
    if (this.out.dropped > 0) this.drop(1008, 'listener too slow: it does not read');
  }

  /** The call ended: `stop`, then a normal close. Audio a slow reader had not taken is dropped. */
  private stop(): void {
    if (this.closed) return;
    this.out.dispose();
    this.socket.send(listenOutbound.stop());
    this.socket.close(1000, 'call ended');
    this.cleanUp();
  }

  private readonly onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    if (this.closed) return;
    if (!this.frames.take(1, performance.now())) return this.ignore('over the frame rate');
    if (isBinary) return this.ignore('binary frame');
    const parsed = parseListenMessage(rawDataToString(data));
    if (!parsed.ok) return this.ignore(parsed.reason);
    this.handle(parsed.message);
  };

  private handle(message: ListenClientMessage): void {
    if (message.event !== 'media' && this.target.session && this.sessions) {
      const { session } = this.target;
      const sessions = this.sessions;
      this.waitingControls++;
      this.controls = this.controls
        .then(async () => this.afterCheck(message, await sessions.state(session)))
        .catch((error: Error) => this.fail(error))
        .finally(() => this.waitingControls--);
      return;
    }
    this.act(message);
  }

  /**
   * A console socket's takeover or handback, once its session was checked afresh: the socket
   * may have been opened by a session that has ended since (its end not heard here yet).
   */
  private afterCheck(message: ListenClientMessage, state: 'live' | 'ended' | 'unknown'): void {
    if (this.closed) return this.afterClose(message, state);
    if (state === 'ended' && message.event !== 'media') {
      this.socket.send(listenOutbound.refused(message.event, 'session ended'));
      return this.drop(1008, 'session ended');
    }
    // Handing back only gives the line up: never held back for want of an answer.
    if (state === 'unknown' && message.event === 'takeover') {
      return this.send(listenOutbound.refused('takeover', SESSION_UNCHECKED));
    }
    this.act(message);
  }

  /**
   * A frame whose check came back after the socket closed. A handback still hands back, with its
   * note (the operator pressed Hand back, then closed the tab); a takeover never takes the line
   * for a socket that is gone; and once the line was released nothing acts (the check was late).
   */
  private afterClose(message: ListenClientMessage, state: 'live' | 'ended' | 'unknown'): void {
    if (this.released || message.event !== 'handback' || state === 'ended') return;
    this.act(message);
  }

  private act(message: ListenClientMessage): void {
    const { takeover, operator } = this.target;
    switch (message.event) {
      case 'takeover': {
        const held = takeover.holds(this);
        const answer = takeover.take(this, operator);
        if (!answer.ok) return this.send(listenOutbound.refused('takeover', answer.reason));
        // A fresh bucket: time spent listening saves no audio up for a burst at the caller.
        if (!held) this.audio = new MediaRateLimiter();
        return this.group.broadcast(listenOutbound.ack('takeover'));
      }
      case 'media': {
        // Not the holder, or no takeover: ignored, as the contract says (and not held against
        // it: a microphone may still be sending for a moment after a handback).
        if (!takeover.holds(this) || !this.audio) return;
        const verdict = this.audio.audio(message.payload);
        if (verdict === 'close') return this.drop(1008, 'operator audio faster than real time');
        if (verdict === 'forward') takeover.operatorAudio(this, message.payload);
        return;
      }
      case 'handback': {
        const answer = takeover.handBack(this, message.note);
        if (answer.ok) this.group.broadcast(listenOutbound.ack('handback'));
        else this.send(listenOutbound.refused('handback', answer.reason));
        return;
      }
    }
  }

  private ignore(why: string): void {
    if (++this.ignored <= MAX_LISTEN_CLIENT_IGNORED_FRAMES) return;
    this.drop(1008, `more than ${MAX_LISTEN_CLIENT_IGNORED_FRAMES} ignored frames (last: ${why})`);
  }

  /** Closed by us: a close frame saying why, then destroyed whatever the peer does. */
  private drop(code: number, why: string): void {
    if (this.closed) return;
    this.group.warn(`dropped a listener of ${this.target.callSid}: ${why}`);
    this.cleanUp();
    this.socket.close(code, closeReason(why));
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  /**
   * The operator closed the socket: what it sent before closing is still acted on (a handback's
   * note reaches the model), so a line it holds is handed back once the frames waiting on their
   * check are done; LISTEN_CLOSE_SETTLE_MS at most, as a hung check must not keep a closed
   * socket on the line.
   */
  private readonly closedByPeer = (): void => {
    if (this.closed) return;
    if (this.waitingControls === 0) return this.cleanUp();
    this.letGo();
    const bound = setTimeout(this.release, LISTEN_CLOSE_SETTLE_MS).unref();
    void this.controls.then(() => {
      clearTimeout(bound);
      this.release();
    });
  };

  /** Once, closed by us or the call's end: a line this socket held is handed back at once. */
  private cleanUp(): void {
    if (this.closed) return;
    this.letGo();
    this.release();
  }

  /** The tap, the sender and the group let go: nothing more to or from this socket. */
  private letGo(): void {
    this.closed = true;
    this.unsubscribe?.();
    this.untrack?.();
    this.out.dispose();
    this.group.leave(this);
  }

  private readonly release = (): void => {
    if (this.released) return;
    this.released = true;
    if (this.target.takeover.holds(this) && this.target.takeover.handBack(this).ok) {
      this.group.broadcast(listenOutbound.ack('handback'));
    }
  };

  /** A throw in a handler ends this listener only. */
  private guarded<A extends unknown[]>(handler: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      try {
        handler(...args);
      } catch (error) {
        this.fail(error as Error);
      }
    };
  }

  private fail(error: Error): void {
    this.group.warn(`listener of ${this.target.callSid} failed: ${error.message}`);
    this.cleanUp();
    this.socket.terminate();
  }
}
