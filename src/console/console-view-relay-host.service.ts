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
import { MAX_SSE_EVENT_BYTES } from '../http/sse.constants.js';
import { LISTEN_RELAY_MAX_SEEN_OPENS } from '../listen/listen.constants.js';
import { RelayLink } from '../listen/relay-link.js';
import { CallMonitor } from './call-monitor.service.js';
import { detailWithin, type CallDetail } from './console-call.views.js';
import {
  sealedBytes,
  SNAPSHOT_PREFIX,
  viewOpenSchema,
  viewUpSchema,
  type ViewDown,
  type ViewOpen,
  type ViewUp,
} from './console-view-relay.messages.js';
import { CONSOLE_VIEW_RELAY_BOUNDS, MAX_RELAYED_VIEW_EVENT_BYTES } from './console.constants.js';

/** The smallest bound a snapshot is fitted to for the bus before the view gives up. */
const MIN_RELAYED_SNAPSHOT_BYTES = 4 * 1024;

/**
 * `frame` as it can go on the bus (MAX_RELAYED_VIEW_EVENT_BYTES once sealed), with that size: a
 * snapshot too big keeps fewer of its newest entries (marked `truncated`); another event, none.
 */
export function relayable(frame: SseFrame): { frame: SseFrame; bytes: number } | undefined {
  const bytes = sealedBytes(frame);
  if (bytes <= MAX_RELAYED_VIEW_EVENT_BYTES) return { frame, bytes };
  if (!frame.startsWith(SNAPSHOT_PREFIX)) return undefined;
  const detail = JSON.parse(frame.slice(SNAPSHOT_PREFIX.length)) as CallDetail;
  if (!Array.isArray(detail.entries)) return undefined;
  for (let bound = MAX_SSE_EVENT_BYTES / 2; bound >= MIN_RELAYED_SNAPSHOT_BYTES; bound /= 2) {
    const smaller = sseFrame('snapshot', detailWithin(detail, bound));
    const size = sealedBytes(smaller);
    if (size <= MAX_RELAYED_VIEW_EVENT_BYTES) return { frame: smaller, bytes: size };
  }
  return undefined;
}

/**
 * A call view followed from another instance: the owner's console followers write to it as to a
 * local stream, and it carries their events over the bus to the asking instance's stream.
 */
export class RelayedView implements SseSink {
  readonly link: RelayLink<ViewUp, ViewDown, SseFrame>;
  private closed = false;
  private readonly closeHandlers: Array<() => void> = [];

  constructor(channels: ClusterChannels, session: string) {
    this.link = new RelayLink(
      channels,
      redisKeys.consoleViewDown(session),
      redisKeys.consoleViewUp(session),
      viewUpSchema,
      // The asker let go (its page closed, its session ended), went silent, or lagged too far.
      { message: (message) => message.type === 'close' && this.end(), ended: () => this.end() },
      CONSOLE_VIEW_RELAY_BOUNDS,
    );
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(event: string, data: unknown): void {
    this.sendFrame(sseFrame(event, data));
  }

  sendFrame(frame: SseFrame): void {
    if (this.closed) return;
    const relayed = relayable(frame);
    if (!relayed) return this.close('an event of this call is too large to relay');
    this.link.frame(relayed.frame, relayed.bytes);
  }

  onClose(handler: () => void): void {
    if (this.closed) handler();
    else this.closeHandlers.push(handler);
  }

  /** Ends the view from this side: the asker's stream ends after what was sent, with `why`. */
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
 * The owner's side of the console's call view relay (cluster mode): open requests from other
 * instances on `bridge:console-view:<INSTANCE_ID>`, asked after the operator's credentials were
 * checked there. Each is a follower of the call like a local page's, counted among this
 * instance's MAX_LIVE_FOLLOWERS: the same snapshot, entries, figures and end.
 */
@Injectable()
export class ConsoleViewRelayHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('ConsoleViewRelay');
  private readonly views = new Set<RelayedView>();
  private readonly seen = new SeenIds(LISTEN_RELAY_MAX_SEEN_OPENS);
  private unsubscribe?: () => void;

  constructor(
    private readonly directory: CallDirectory,
    private readonly monitor: CallMonitor,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const channels = this.directory.channels();
    if (!channels) return;
    const channel = redisKeys.consoleViewOpen(channels.instanceId);
    this.unsubscribe = await channels.subscribe(channel, (raw) => {
      const open = channels.open(channel, raw, viewOpenSchema);
      if (!open) return;
      // A captured open request, sent again, opens nothing.
      if (!this.seen.firstTime(open.session)) return channels.replayed(channel);
      this.accept(channels, open).catch((error: Error) =>
        this.log.warn(`relayed view of ${open.callSid} failed: ${error.message}`),
      );
    });
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
    for (const view of this.views) view.close('instance shutting down');
  }

  private async accept(channels: ClusterChannels, open: ViewOpen): Promise<void> {
    const early = this.refusal(open.callSid);
    if (early) {
      const refused: ViewDown = { type: 'refused', seq: 0, ...early };
      return void (await channels.publish(redisKeys.consoleViewDown(open.session), refused));
    }
    const view = new RelayedView(channels, open.session);
    this.views.add(view);
    view.onClose(() => this.views.delete(view));
    try {
      await view.link.start();
    } catch (error) {
      view.close();
      throw error;
    }
    // Checked again once the link is up: other views may have opened, the call may be gone.
    const refusal = this.refusal(open.callSid);
    if (refusal) {
      view.link.finish({ type: 'refused', ...refusal });
      return view.close();
    }
    view.link.send({ type: 'opened' });
    this.monitor.followCall(open.callSid, view);
  }

  /** Why a view of `callSid` cannot be followed here now, if it cannot. */
  private refusal(callSid: string): { status: number; message: string } | undefined {
    if (!this.monitor.detail(callSid))
      return { status: 404, message: `no live or recent call ${callSid}` };
    try {
      this.monitor.assertFollowerRoom();
    } catch (error) {
      return { status: 503, message: (error as Error).message };
    }
    return undefined;
  }
}
