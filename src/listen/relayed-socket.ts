import { EventEmitter } from 'node:events';
import type { ClusterChannels } from '../directory/cluster-channels.js';
import { redisKeys } from '../directory/redis-keys.js';
import {
  relayUpSchema,
  toRelayFrame,
  type RelayDown,
  type RelayFrame,
  type RelayUp,
} from './listen-relay.messages.js';
import type { ListenPeer } from './listen-socket.js';
import { RelayLink } from './relay-link.js';

const OPEN = 1;
const CLOSED = 3;
const NO_DATA = Buffer.alloc(0);

/**
 * The owner's end of a relayed listen socket: what a ListenSocket needs of a WebSocket, carried
 * over the bus to the instance that holds the real one. Its `bufferedAmount` is what the bus has
 * not taken yet, so a session past its byte rate backs up into the ListenSocket's own bounds (a
 * listener that does not read is dropped), as a slow local socket would.
 */
export class RelayedSocket extends EventEmitter implements ListenPeer {
  readyState = OPEN;
  private readonly link: RelayLink<RelayUp, RelayDown, RelayFrame>;

  constructor(channels: ClusterChannels, session: string) {
    super();
    this.link = new RelayLink(
      channels,
      redisKeys.listenDown(session),
      redisKeys.listenUp(session),
      relayUpSchema,
      {
        message: (message) => this.onMessage(message),
        ended: () => this.closed(),
      },
    );
  }

  get bufferedAmount(): number {
    return this.link.queuedBytes;
  }

  /** Listens to the asking side's channel, then tells it the session is open. */
  async open(): Promise<void> {
    await this.link.start();
    this.link.send({ type: 'opened' });
  }

  send(data: string): void {
    if (this.readyState === OPEN) this.link.frame(toRelayFrame(data), data.length);
  }

  /** The far socket is closed with this code and reason, after every frame sent before. */
  close(code = 1000, reason = ''): void {
    if (this.readyState !== OPEN) return;
    this.link.finish({ type: 'close', code, reason });
    this.closed();
  }

  terminate(): void {
    if (this.readyState === OPEN) this.link.close();
    this.closed();
  }

  private onMessage(message: RelayUp): void {
    if (message.type === 'close') {
      this.link.close();
      return this.closed();
    }
    if (message.type !== 'frames') return;
    for (const frame of message.frames) {
      if (this.readyState !== OPEN) return;
      if (frame === null) this.emit('message', NO_DATA, true);
      else this.emit('message', Buffer.from(frame), false);
    }
  }

  /** Once: as `ws` would, `close` for the ListenSocket (which hands a held line back). */
  private closed(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.emit('close');
  }
}
