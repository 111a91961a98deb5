import { Injectable, NotFoundException, type OnModuleDestroy } from '@nestjs/common';
import { CallRegistry } from '../call/call-registry.service.js';
import { CallDirectory } from '../directory/call-directory.js';
import { CallEventBus } from '../events/call-event-bus.js';
import type { AnyCallEvent } from '../events/call-events.js';
import type { SseSink } from '../http/sse-stream.js';
import { CallTimelines } from './call-timelines.js';
import { ConsoleCallList, type LiveCallTable } from './console-call-list.js';
import type { CallDetail, RecentCallSummary } from './console-call.views.js';
import { ConsoleFollowers } from './console-followers.js';

/**
 * What the console shows about calls, kept as calls happen: each live call's timeline (from the
 * call.* events, CallTimelines), the cluster's live and recent calls (ConsoleCallList), and the
 * console's event streams that carry them live (ConsoleFollowers).
 */
@Injectable()
export class CallMonitor implements OnModuleDestroy {
  private readonly timelines: CallTimelines;
  private readonly list: ConsoleCallList;
  private readonly followers: ConsoleFollowers;

  constructor(registry: CallRegistry, directory: CallDirectory, bus: CallEventBus) {
    this.timelines = new CallTimelines(registry);
    this.list = new ConsoleCallList(registry, directory, this.timelines.recent);
    this.followers = new ConsoleFollowers(registry, () => this.list.liveCalls());
    bus.follow('CallMonitor', (event) => this.onCallEvent(event));
    directory.onCallErased((callSid) => this.timelines.forget(callSid));
  }

  onModuleDestroy(): void {
    this.followers.close();
  }

  // --- what the routes read ------------------------------------------------------------

  /** Every live call of the cluster; this instance's in detail, the others as `remote`. */
  liveCalls(): Promise<LiveCallTable> {
    return this.list.liveCalls();
  }

  /** The last RECENT_CALLS finished calls of the cluster, newest first. */
  recentCalls(): Promise<RecentCallSummary[]> {
    return this.list.recentCalls();
  }

  /** A call another instance carried, from its record in the directory; undefined otherwise. */
  recordDetail(callSid: string): Promise<CallDetail | undefined> {
    return this.list.recordDetail(callSid);
  }

  /** Whether a call is live or recently finished here (CallMonitor.detail without the copy). */
  has(callSid: string): boolean {
    return this.timelines.has(callSid);
  }

  /** A live or recently finished call of this instance; undefined when it is neither. */
  detail(callSid: string): CallDetail | undefined {
    return this.timelines.detail(callSid);
  }

  // --- live streams --------------------------------------------------------------------

  /** Throws 503 when the console already has MAX_LIVE_FOLLOWERS streams open. */
  assertFollowerRoom(): void {
    this.followers.assertRoom();
  }

  /** The calls table: a snapshot now, then a new one whenever a row changes. */
  followCalls(stream: SseSink): void {
    this.followers.followCalls(stream);
  }

  /** One call: its detail now, then entries as they happen and figures a few times a second. */
  followCall(callSid: string, stream: SseSink): void {
    const detail = this.detail(callSid);
    if (!detail) throw new NotFoundException(`no live or recent call ${callSid}`);
    this.followers.followCall(callSid, detail, stream);
  }

  // --- call events ---------------------------------------------------------------------

  onCallEvent(event: AnyCallEvent): void {
    const change = this.timelines.apply(event);
    switch (change?.kind) {
      case undefined:
        return;
      case 'started':
        this.followers.rowsChanged();
        return;
      case 'entry':
        this.followers.sendEntry(event.callSid, change.entry);
        return;
      case 'ended':
        this.followers.sendEnded(change.record);
        this.followers.rowsChanged();
        return;
    }
  }
}
