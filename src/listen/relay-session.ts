import type WebSocket from 'ws';
import type { ClusterChannels } from '../directory/cluster-channels.js';
import { redisKeys } from '../directory/redis-keys.js';
import { BoundedSender } from '../websocket/bounded-sender.js';
import { closeReason } from '../websocket/close-reason.js';
import { rawDataToString } from '../websocket/raw-data.js';
import type { UpgradeVerdict } from '../websocket/upgrade-router.service.js';
import type { RemoteListenTarget } from './listen-access.js';
import {
  fromRelayFrame,
  relayDownSchema,
  type RelayDown,
  type RelayOpen,
  type RelayUp,
} from './listen-relay.messages.js';
import {
  LISTEN_RELAY_ATTACH_MS,
  LISTEN_RELAY_OPEN_TIMEOUT_MS,
  LISTENER_HIGH_WATER_BYTES,
  LISTENER_MAX_BACKLOG_FRAMES,
} from './listen.constants.js';
import { listenOutbound } from './listen.messages.js';
import { RelayLink } from './relay-link.js';

const STOP = listenOutbound.stop();

/** A closed socket's close frame gets this long before it is destroyed. */
const CLOSE_GRACE_MS = 1000;

/**
 * The asking side of one relayed listen socket: the operator's WebSocket here, the call on its
 * owner. `open` asks the owner (answered within LISTEN_RELAY_OPEN_TIMEOUT_MS, or the upgrade
 * is refused); the owner's frames go to the socket as they come, through a bounded sender
 * (a client that does not read is dropped, as on the owner); the client's frames go to the owner,
 * which applies the listen bounds and rules itself. Either side closing ends the other.
 */
export class RelaySession {
  private readonly link: RelayLink<RelayDown, RelayUp, string | null>;
  private answer?: (verdict: UpgradeVerdict) => void;
  private socket?: WebSocket;
  private out?: BoundedSender;
  /** Frames from the owner before the WebSocket exists (the 101 is on its way). */
  private early: string[] = [];
  private attachTimer?: NodeJS.Timeout;
  private ended = false;
  /** How the session ended before its socket existed (the call ended at once, say). */
  private endedWith?: { code: number; why: string };

  constructor(
    private readonly channels: ClusterChannels,
    private readonly session: string,
    private readonly target: RemoteListenTarget,
    private readonly onEnd: () => void,
  ) {
    this.link = new RelayLink(
      channels,
      redisKeys.listenUp(session),
      redisKeys.listenDown(session),
      relayDownSchema,
      { message: (message) => this.onMessage(message), ended: (why, code) => this.end(code, why) },
    );
  }

  get callSid(): string {
    return this.target.callSid;
  }

  /** Asks the owner; the verdict the upgrade answers with. */
  async open(): Promise<UpgradeVerdict> {
    const { instance, callSid, operator, session } = this.target;
    const answered = new Promise<UpgradeVerdict>((resolve) => (this.answer = resolve));
    const timer = setTimeout(
      () =>
        this.refuse(
          504,
          `instance ${instance}, which carries the call, did not answer within ${LISTEN_RELAY_OPEN_TIMEOUT_MS} ms`,
        ),
      LISTEN_RELAY_OPEN_TIMEOUT_MS,
    );
    try {
      await this.link.start();
      const request: RelayOpen = {
        type: 'open',
        session: this.session,
        callSid,
        operator,
        from: this.channels.instanceId,
        ...(session ? { consoleSession: session } : {}),
      };
      const receivers = await this.channels.publish(redisKeys.listenOpen(instance), request);
      if (!receivers)
        this.refuse(503, `instance ${instance}, which carries the call, cannot be reached`);
    } catch {
      this.refuse(503, 'the cluster bus cannot be reached');
    }
    const verdict = await answered;
    clearTimeout(timer);
    if (verdict.ok) {
      this.attachTimer = setTimeout(
        () => this.end(1011, 'the listen socket never opened'),
        LISTEN_RELAY_ATTACH_MS,
      );
      this.attachTimer.unref();
    }
    return verdict;
  }

  /** The upgrade completed: the operator's socket, joined to the session. */
  attach(socket: WebSocket): void {
    clearTimeout(this.attachTimer);
    if (this.ended) {
      for (const frame of this.early.splice(0)) socket.send(frame);
      const { code, why } = this.endedWith ?? { code: 1011, why: 'the relay session ended' };
      return void socket.close(code, closeReason(why));
    }
    this.socket = socket;
    this.out = new BoundedSender(socket, LISTENER_HIGH_WATER_BYTES, LISTENER_MAX_BACKLOG_FRAMES);
    for (const frame of this.early.splice(0)) this.deliver(frame);
    socket.on('message', (data, isBinary) => {
      if (isBinary) return this.link.frame(null, 0);
      const text = rawDataToString(data);
      this.link.frame(text, text.length);
    });
    socket.on('close', () => this.end());
    socket.on('error', (error) => this.end(1011, error.message));
  }

  /** This instance is closing: the socket goes (1001), the owner is told. */
  shutdown(): void {
    this.refuse(503, 'this instance is shutting down');
    this.end(1001, 'instance shutting down');
  }

  private onMessage(message: RelayDown): void {
    switch (message.type) {
      case 'opened': {
        const answer = this.answer;
        this.answer = undefined;
        return answer?.({ ok: true });
      }
      case 'refused':
        return this.refuse(message.status, message.message);
      case 'frames':
        for (const frame of message.frames) this.deliver(fromRelayFrame(frame));
        return;
      case 'close':
        // The owner said why (the call ended: 1000 after `stop`); nothing to tell it back.
        this.link.close();
        return this.end(message.code, message.reason, false);
      case 'ping':
        return;
    }
  }

  private deliver(frame: string): void {
    if (this.ended) return;
    if (!this.out) {
      if (this.early.length >= LISTENER_MAX_BACKLOG_FRAMES) {
        return this.end(1008, 'listener too slow: it does not read');
      }
      this.early.push(frame);
      return;
    }
    if (frame === STOP) {
      // As on the owner: audio a slow reader had not taken is dropped, `stop` still goes.
      this.out.dispose();
      this.socket?.send(frame);
      return;
    }
    this.out.send(frame);
    if (this.out.dropped > 0) this.end(1008, 'listener too slow: it does not read');
  }

  private refuse(status: number, message: string): void {
    const answer = this.answer;
    this.answer = undefined;
    if (!answer) return;
    answer({ ok: false, status, message });
    this.end(undefined, undefined, false);
  }

  /**
   * Once: the socket closed with `code` (when it is still open), the owner told (unless it is
   * the one that ended it), the link let go.
   */
  private end(code?: number, why?: string, tellOwner = true): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.attachTimer);
    this.out?.dispose();
    if (tellOwner) this.link.finish({ type: 'close' });
    else this.link.close();
    this.onEnd();
    const socket = this.socket;
    if (code !== undefined) this.endedWith = { code, why: why ?? '' };
    if (!socket || code === undefined) return;
    socket.close(code, closeReason(why ?? ''));
    setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
  }
}
