import { Injectable, type OnModuleInit } from '@nestjs/common';
import { sseFrame, sseFrameParts, type SseFrame, type SseSink } from '../http/sse-stream.js';
import { MAX_SSE_EVENT_BYTES } from '../http/sse.constants.js';
import { MAX_RELAYED_EVENT_BYTES } from '../stream-relay/stream-relay.constants.js';
import {
  StreamRelayHost,
  type StreamRefusal,
  type StreamSource,
} from '../stream-relay/stream-relay-host.service.js';
import { sealedBytes } from '../stream-relay/stream-relay.messages.js';
import { CallMonitor } from './call-monitor.service.js';
import { detailWithin, type CallDetail } from './console-call.views.js';

/** The smallest bound a snapshot is fitted to for the bus before the relay gives up. */
const MIN_RELAYED_SNAPSHOT_BYTES = 4 * 1024;

/** The call detail a snapshot event carries; undefined for another event. */
export function snapshotOf(frame: SseFrame | undefined): CallDetail | undefined {
  if (!frame?.startsWith('event: snapshot\n')) return undefined;
  return sseFrameParts(frame).data as CallDetail;
}

/**
 * A snapshot too big for the bus once sealed (MAX_RELAYED_EVENT_BYTES), with fewer of its
 * newest entries (marked `truncated`) until it fits; undefined for another event.
 */
export function smallerSnapshot(frame: SseFrame): SseFrame | undefined {
  const detail = snapshotOf(frame);
  if (!Array.isArray(detail?.entries)) return undefined;
  for (let bound = MAX_SSE_EVENT_BYTES / 2; bound >= MIN_RELAYED_SNAPSHOT_BYTES; bound /= 2) {
    const smaller = sseFrame('snapshot', detailWithin(detail, bound));
    if (sealedBytes(smaller) <= MAX_RELAYED_EVENT_BYTES) return smaller;
  }
  return undefined;
}

/**
 * The console's call view as the stream relay's owner serves it (cluster mode): a page on
 * another instance follows a call of this one like a page here, counted among this instance's
 * MAX_LIVE_FOLLOWERS.
 */
@Injectable()
export class ConsoleViewSource implements StreamSource, OnModuleInit {
  constructor(
    private readonly monitor: CallMonitor,
    private readonly host: StreamRelayHost,
  ) {}

  onModuleInit(): void {
    this.host.register('console-view', this);
  }

  refusal(callSid: string): StreamRefusal | undefined {
    if (!this.monitor.has(callSid)) {
      return { status: 404, message: `no live or recent call ${callSid}` };
    }
    try {
      this.monitor.assertFollowerRoom();
    } catch (error) {
      return { status: 503, message: (error as Error).message };
    }
    return undefined;
  }

  follow(callSid: string, sink: SseSink): void {
    this.monitor.followCall(callSid, sink);
  }

  shrink(frame: SseFrame): SseFrame | undefined {
    return smallerSnapshot(frame);
  }
}
