import { randomUUID } from 'node:crypto';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { CALL_ID_PATTERN } from '../call/call-id.js';
import { CallDirectory } from '../directory/call-directory.js';
import type { ClusterChannels } from '../directory/cluster-channels.js';
import { redisKeys } from '../directory/redis-keys.js';
import type { SseFrame, SseSink } from '../http/sse-stream.js';
import { RelayLink } from '../listen/relay-link.js';
import {
  relayDownSchema,
  type StreamDown,
  type StreamKind,
  type StreamOpen,
  type StreamUp,
} from './stream-relay.messages.js';
import {
  MAX_RELAYED_STREAMS,
  STREAM_RELAY_BOUNDS,
  STREAM_RELAY_OPEN_TIMEOUT_MS,
} from './stream-relay.constants.js';

export type StreamOpening =
  { ok: true; relay: StreamRelay } | { ok: false; status: number; message: string };

/**
 * The asking side of one relayed stream: the client's stream here, the call on its owner.
 * `open` asks the owner (answered within STREAM_RELAY_OPEN_TIMEOUT_MS); its events then go to
 * the stream `attach`ed, or only the first one is taken (`firstEvent`). Either side ending ends
 * the other.
 */
export class StreamRelay {
  private readonly link: RelayLink<StreamDown, StreamUp, never>;
  private answer?: (opening: StreamOpening) => void;
  private stream?: SseSink;
  /** Events from the owner before a stream or a first-event reader took them. */
  private readonly early: SseFrame[] = [];
  private reader?: (frame: SseFrame | undefined) => void;
  private ended = false;
  private endedWhy?: string;

  constructor(
    private readonly channels: ClusterChannels,
    private readonly session: string,
    private readonly kind: StreamKind,
    private readonly instance: string,
    private readonly callSid: string,
    private readonly onEnd: () => void,
  ) {
    this.link = new RelayLink(
      channels,
      redisKeys.streamUp(session),
      redisKeys.streamDown(session),
      relayDownSchema,
      {
        message: (message) => this.onMessage(message),
        ended: (why) => this.end(`the relay from instance ${instance} ended: ${why}`, false),
      },
      STREAM_RELAY_BOUNDS,
    );
  }

  async open(): Promise<StreamOpening> {
    const { instance } = this;
    const answered = new Promise<StreamOpening>((resolve) => (this.answer = resolve));
    const timer = setTimeout(
      () =>
        this.refuse(
          504,
          `instance ${instance}, which carries the call, did not answer within ${STREAM_RELAY_OPEN_TIMEOUT_MS} ms`,
        ),
      STREAM_RELAY_OPEN_TIMEOUT_MS,
    );
    try {
      await this.link.start();
      const request: StreamOpen = {
        type: 'open',
        session: this.session,
        kind: this.kind,
        callSid: this.callSid,
        from: this.channels.instanceId,
      };
      const receivers = await this.channels.publish(redisKeys.streamOpen(instance), request);
      if (!receivers)
        this.refuse(503, `instance ${instance}, which carries the call, cannot be reached`);
    } catch {
      this.refuse(503, 'the cluster bus cannot be reached');
    }
    const opening = await answered;
    clearTimeout(timer);
    return opening;
  }

  /** The client's stream: every event of the owner's follower, until either side ends. */
  attach(stream: SseSink): void {
    for (const frame of this.early.splice(0)) stream.sendFrame(frame);
    if (this.ended) return stream.close(this.endedWhy);
    this.stream = stream;
    stream.onClose(() => this.end(undefined, true));
  }

  /** The owner's first event (a console view's snapshot), then the relay ends. */
  async firstEvent(): Promise<SseFrame | undefined> {
    const frame =
      this.early.shift() ??
      (this.ended
        ? undefined
        : await new Promise<SseFrame | undefined>((resolve) => {
            const timer = setTimeout(() => resolve(undefined), STREAM_RELAY_OPEN_TIMEOUT_MS);
            this.reader = (first) => {
              clearTimeout(timer);
              resolve(first);
            };
          }));
    this.end(undefined, true);
    return frame;
  }

  /** Nobody wants the stream any more (its client left while it opened): the owner is told. */
  close(): void {
    this.end(undefined, true);
  }

  /** This instance is closing: the stream ends, the owner is told. */
  shutdown(): void {
    this.refuse(503, 'this instance is shutting down');
    this.end('instance shutting down', true);
  }

  private onMessage(message: StreamDown): void {
    switch (message.type) {
      case 'opened': {
        const answer = this.answer;
        this.answer = undefined;
        return answer?.({ ok: true, relay: this });
      }
      case 'refused':
        return this.refuse(message.status, message.message);
      case 'frames':
        for (const frame of message.frames) this.deliver(frame);
        return;
      case 'close':
        // The owner ended the stream (the call ended, or it is shutting down).
        return this.end(message.reason, false);
      case 'ping':
        return;
    }
  }

  private deliver(frame: SseFrame): void {
    if (this.ended) return;
    if (this.stream) return this.stream.sendFrame(frame);
    const reader = this.reader;
    this.reader = undefined;
    if (reader) return reader(frame);
    if (this.early.length >= STREAM_RELAY_BOUNDS.maxQueuedFrames) {
      return this.end('the client did not take the stream in time', true);
    }
    this.early.push(frame);
  }

  private refuse(status: number, message: string): void {
    const answer = this.answer;
    this.answer = undefined;
    if (!answer) return;
    answer({ ok: false, status, message });
    this.end(undefined, false);
  }

  /** Once: the owner told (unless it is the one that ended it), the stream ended with `why`. */
  private end(why: string | undefined, tellOwner: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.endedWhy = why;
    if (tellOwner) this.link.finish({ type: 'close' });
    else this.link.close();
    this.onEnd();
    this.reader?.(undefined);
    this.reader = undefined;
    this.stream?.close(why);
  }
}

/**
 * An event stream of a call another instance carries (cluster mode): relayed from that owner
 * over the signed bus, at most MAX_RELAYED_STREAMS at once on this instance.
 */
@Injectable()
export class StreamRelayClient implements OnApplicationShutdown {
  private readonly relays = new Set<StreamRelay>();

  constructor(private readonly directory: CallDirectory) {
    // The owners are told while the bus can still carry it, whichever shutdown hook runs first.
    directory.channels()?.onClosing(() => this.onApplicationShutdown());
  }

  /** The instance carrying live call `callSid`, when that is another one of the cluster. */
  async ownerElsewhere(callSid: string): Promise<string | undefined> {
    if (!this.directory.channels() || !CALL_ID_PATTERN.test(callSid)) return undefined;
    const call = await this.directory.get(callSid);
    return call && call.instance !== this.directory.instanceId ? call.instance : undefined;
  }

  async open(kind: StreamKind, instance: string, callSid: string): Promise<StreamOpening> {
    const channels = this.directory.channels();
    if (!channels) return { ok: false, status: 503, message: 'no cluster bus to relay over' };
    if (this.relays.size >= MAX_RELAYED_STREAMS) {
      return {
        ok: false,
        status: 503,
        message: `already ${MAX_RELAYED_STREAMS} relayed streams on this instance`,
      };
    }
    const relay = new StreamRelay(channels, randomUUID(), kind, instance, callSid, () =>
      this.relays.delete(relay),
    );
    this.relays.add(relay);
    return relay.open();
  }

  onApplicationShutdown(): void {
    for (const relay of this.relays) relay.shutdown();
  }
}
