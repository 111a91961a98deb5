import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CallDirectory } from '../directory/call-directory.js';
import type { ClusterChannels } from '../directory/cluster-channels.js';
import { redisKeys } from '../directory/redis-keys.js';
import { SeenIds } from '../directory/seen-ids.js';
import { sseFrame, type SseFrame, type SseSink } from '../http/sse-stream.js';
import { RelayLink } from '../listen/relay-link.js';
import {
  eventWithinRelay,
  relayOpenSchema,
  relayUpSchema,
  sealedBytes,
  type StreamDown,
  type StreamKind,
  type StreamOpen,
  type StreamUp,
} from './stream-relay.messages.js';
import {
  MAX_RELAYED_EVENT_BYTES,
  STREAM_RELAY_BOUNDS,
  STREAM_RELAY_MAX_SEEN_OPENS,
} from './stream-relay.constants.js';

export interface StreamRefusal {
  status: number;
  message: string;
}

/** A kind of stream as its owner serves it, to a page or client here or, relayed, elsewhere. */
export interface StreamSource {
  /** Why `callSid`'s stream cannot be followed here now, if it cannot. */
  refusal(callSid: string): StreamRefusal | undefined;
  /** Follows `callSid` into `sink`, as for a client of this instance. */
  follow(callSid: string, sink: SseSink): void;
  /** An event too big for the bus, made smaller if it can be (a snapshot with fewer entries). */
  shrink?(frame: SseFrame): SseFrame | undefined;
}

/**
 * A stream followed from another instance: the owner's followers write to it as to a local
 * stream, and it carries their events over the bus to the asking instance's stream.
 */
export class RelayedStream implements SseSink {
  readonly link: RelayLink<StreamUp, StreamDown, SseFrame>;
  private closed = false;
  private readonly closeHandlers: Array<() => void> = [];

  constructor(
    channels: ClusterChannels,
    session: string,
    private readonly shrink?: (frame: SseFrame) => SseFrame | undefined,
  ) {
    this.link = new RelayLink(
      channels,
      redisKeys.streamDown(session),
      redisKeys.streamUp(session),
      relayUpSchema,
      // The asker let go (its client left, its session ended), went silent, or lagged too far.
      { message: (message) => message.type === 'close' && this.end(), ended: () => this.end() },
      STREAM_RELAY_BOUNDS,
    );
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(event: string, data: unknown): void {
    this.sendFrame(sseFrame(event, data));
  }

  /**
   * An event within MAX_RELAYED_EVENT_BYTES once sealed: as the source makes it smaller, else
   * cut as for a client (eventWithinRelay); one that cannot be ends the stream.
   */
  sendFrame(frame: SseFrame): void {
    if (this.closed) return;
    let bytes = sealedBytes(frame);
    if (bytes > MAX_RELAYED_EVENT_BYTES) {
      const smaller = this.shrink?.(frame) ?? eventWithinRelay(frame);
      bytes = smaller ? sealedBytes(smaller) : Infinity;
      if (!smaller || bytes > MAX_RELAYED_EVENT_BYTES) {
        return this.close('an event of this call is too large to relay');
      }
      frame = smaller;
    }
    this.link.frame(frame, bytes);
  }

  onClose(handler: () => void): void {
    if (this.closed) handler();
    else this.closeHandlers.push(handler);
  }

  /** Ends the stream from this side: the asker's ends after what was sent, with `why`. */
  close(why?: string): void {
    if (this.closed) return;
    this.link.finish({ type: 'close', ...(why ? { reason: why } : {}) });
    this.fire();
  }

  private end(): void {
    if (this.closed) return;
    this.link.close();
    this.fire();
  }

  private fire(): void {
    this.closed = true;
    for (const handler of this.closeHandlers.splice(0)) handler();
  }
}

/**
 * The owner's side of the stream relay (cluster mode): open requests from other instances on
 * `bridge:stream-relay:<INSTANCE_ID>`, sent after the client's credentials were checked there.
 * Each becomes a follower of the call like a local client's, of the source registered for its
 * kind, under that source's own bounds.
 */
@Injectable()
export class StreamRelayHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('StreamRelay');
  private readonly sources = new Map<StreamKind, StreamSource>();
  private readonly streams = new Set<RelayedStream>();
  private readonly seen = new SeenIds(STREAM_RELAY_MAX_SEEN_OPENS);
  private unsubscribe?: () => void;

  constructor(private readonly directory: CallDirectory) {
    // The askers are told while the bus can still carry it, whichever shutdown hook runs first.
    directory.channels()?.onClosing(() => this.onApplicationShutdown());
  }

  /** The owner's side of one kind of stream (registered once, at start-up). */
  register(kind: StreamKind, source: StreamSource): void {
    this.sources.set(kind, source);
  }

  async onApplicationBootstrap(): Promise<void> {
    const channels = this.directory.channels();
    if (!channels) return;
    const channel = redisKeys.streamOpen(channels.instanceId);
    this.unsubscribe = await channels.subscribe(channel, (raw) => {
      const open = channels.open(channel, raw, relayOpenSchema);
      if (!open) return;
      // A captured open request, sent again, opens nothing.
      if (!this.seen.firstTime(open.session)) return channels.replayed(channel);
      this.accept(channels, open).catch((error: Error) =>
        this.log.warn(`relayed ${open.kind} of ${open.callSid} failed: ${error.message}`),
      );
    });
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
    for (const stream of this.streams) stream.close('instance shutting down');
  }

  private async accept(channels: ClusterChannels, open: StreamOpen): Promise<void> {
    const source = this.sources.get(open.kind);
    if (!source) {
      return this.refuse(channels, open, { status: 404, message: `no ${open.kind} streams here` });
    }
    const early = source.refusal(open.callSid);
    if (early) return this.refuse(channels, open, early);
    const stream = new RelayedStream(channels, open.session, source.shrink?.bind(source));
    this.streams.add(stream);
    stream.onClose(() => this.streams.delete(stream));
    try {
      await stream.link.start();
    } catch (error) {
      stream.close();
      throw error;
    }
    // Checked again once the link is up: other streams may have opened, the call may be gone.
    const refusal = source.refusal(open.callSid);
    if (refusal) {
      stream.link.finish({ type: 'refused', ...refusal });
      return stream.close();
    }
    stream.link.send({ type: 'opened' });
    source.follow(open.callSid, stream);
  }

  /** Refuses before any link exists: one message, numbered as a link's first. */
  private async refuse(
    channels: ClusterChannels,
    open: StreamOpen,
    refusal: StreamRefusal,
  ): Promise<void> {
    const refused: StreamDown = { type: 'refused', seq: 0, ...refusal };
    await channels.publish(redisKeys.streamDown(open.session), refused);
  }
}
