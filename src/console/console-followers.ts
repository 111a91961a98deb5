import { ServiceUnavailableException } from '@nestjs/common';
import type { CallRegistry } from '../call/call-registry.service.js';
import type { CallEndedEvent } from '../events/call-events.js';
import { SseFollowerLimits } from '../http/sse-follower-limits.js';
import { sseFrame, type SseSink } from '../http/sse-stream.js';
import { MAX_SSE_EVENT_BYTES } from '../http/sse.constants.js';
import {
  detailWithin,
  statsOf,
  type CallDetail,
  type TimelineEntry,
} from './console-call.views.js';
import type { LiveCallTable } from './console-call-list.js';
import { MAX_LIVE_FOLLOWERS, SAMPLE_INTERVAL_MS } from './console.constants.js';

/**
 * The console's event streams: the calls table and each followed call, at most
 * MAX_LIVE_FOLLOWERS of them, sampling the followed calls' figures only while one is open.
 */
export class ConsoleFollowers {
  private readonly listFollowers = new Set<SseSink>();
  private readonly callFollowers = new Map<string, Set<SseSink>>();
  private readonly limits = new SseFollowerLimits(MAX_LIVE_FOLLOWERS);
  private sampler?: NodeJS.Timeout;
  private lastRowsJson = '';

  constructor(
    private readonly registry: CallRegistry,
    /** The calls table as it stands now. */
    private readonly rows: () => Promise<LiveCallTable>,
  ) {}

  /** Stops sampling and closes every stream. */
  close(): void {
    clearInterval(this.sampler);
    const streams = [...this.listFollowers];
    for (const followers of this.callFollowers.values()) streams.push(...followers);
    for (const stream of streams) stream.close();
  }

  /** Throws 503 when the console already has MAX_LIVE_FOLLOWERS streams open. */
  assertRoom(): void {
    if (this.limits.refusal()) {
      throw new ServiceUnavailableException(
        `the console already has ${MAX_LIVE_FOLLOWERS} live streams open`,
      );
    }
  }

  /** The calls table: a snapshot now, then a new one whenever a row changes. */
  followCalls(stream: SseSink): void {
    this.addFollower(stream, () => this.listFollowers.delete(stream));
    void this.rows().then((table) => {
      // Bring the others up to date first, so the sampler does not resend this same table.
      this.sendRows(table);
      if (stream.isClosed) return;
      stream.send('calls', table);
      this.listFollowers.add(stream);
    });
  }

  /** One call: `detail` now, then entries as they happen and figures a few times a second. */
  followCall(callSid: string, detail: CallDetail, stream: SseSink): void {
    stream.send('snapshot', detailWithin(detail, MAX_SSE_EVENT_BYTES));
    const session = this.registry.get(callSid);
    if (!session) {
      stream.send('ended', detail.record);
      stream.close();
      return;
    }
    let set = this.callFollowers.get(callSid);
    if (!set) this.callFollowers.set(callSid, (set = new Set()));
    set.add(stream);
    session.activity.metering = true;
    this.addFollower(stream, () => {
      const followers = this.callFollowers.get(callSid);
      followers?.delete(stream);
      if (followers?.size === 0) {
        this.callFollowers.delete(callSid);
        const live = this.registry.get(callSid);
        if (live) live.activity.metering = false;
      }
    });
  }

  /** A call started or ended: the calls table's followers get the new table. */
  rowsChanged(): void {
    if (this.listFollowers.size > 0) this.pushRows();
  }

  /** A new timeline entry, to the call's followers. */
  sendEntry(callSid: string, entry: TimelineEntry): void {
    const frame = sseFrame('entry', entry);
    for (const stream of this.callFollowers.get(callSid) ?? []) stream.sendFrame(frame);
  }

  /** The call's record, to its followers, whose streams then end. */
  sendEnded(record: CallEndedEvent): void {
    for (const stream of this.callFollowers.get(record.callSid) ?? []) {
      stream.send('ended', record);
      stream.close();
    }
  }

  private addFollower(stream: SseSink, remove: () => void): void {
    this.limits.track(stream);
    stream.onClose(() => {
      remove();
      if (this.limits.size === 0) {
        clearInterval(this.sampler);
        this.sampler = undefined;
      }
    });
    this.sampler ??= setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.sampler.unref();
  }

  private sample(): void {
    if (this.listFollowers.size > 0) this.pushRows();
    const now = Date.now();
    for (const [callSid, streams] of this.callFollowers) {
      const session = this.registry.get(callSid);
      if (!session) continue;
      const frame = sseFrame('stats', statsOf(session, session.activity.readLevels(now), now));
      for (const stream of streams) stream.sendFrame(frame);
    }
  }

  private pushRows(): void {
    void this.rows().then((table) => this.sendRows(table));
  }

  private sendRows(table: LiveCallTable): void {
    const json = JSON.stringify(table);
    if (json === this.lastRowsJson) return;
    this.lastRowsJson = json;
    const frame = sseFrame('calls', table);
    for (const stream of this.listFollowers) stream.sendFrame(frame);
  }
}
