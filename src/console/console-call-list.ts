import type { CallRegistry } from '../call/call-registry.service.js';
import type { CallDirectory, CallListing, CallRecordEntry } from '../directory/call-directory.js';
import type { CallEndedEvent } from '../events/call-events.js';
import {
  recordRow,
  remoteRow,
  rowBase,
  summaryOf,
  type CallDetail,
  type ConsoleCallRow,
  type RecentCallSummary,
} from './console-call.views.js';
import { RECENT_CALLS } from './console.constants.js';

/**
 * The live calls table: `partial` when the cluster's shared store could not be read, so only
 * this instance's calls are in it (the page says so rather than let calls look ended).
 */
export interface LiveCallTable {
  calls: ConsoleCallRow[];
  partial?: true;
}

/**
 * The console's call tables read across the cluster: this instance's calls from its registry
 * and timelines, the others' from the call directory. Without the shared store (or when it
 * fails), this instance's calls only.
 */
export class ConsoleCallList {
  constructor(
    private readonly registry: CallRegistry,
    private readonly directory: CallDirectory,
    /** This instance's finished calls, newest first. */
    private readonly recent: readonly CallDetail[],
  ) {}

  /**
   * Every live call of the cluster (the directory), with this instance's own calls in detail
   * (their state from the session); the others show as `remote`.
   */
  async liveCalls(): Promise<LiveCallTable> {
    const now = Date.now();
    const cluster = this.clusterMode;
    const rows: ConsoleCallRow[] = this.registry.all().map((session) => ({
      ...rowBase(session),
      ...(cluster ? { instance: this.directory.instanceId } : {}),
      state: session.activity.status(now).state,
    }));
    const local = new Set(rows.map((row) => row.callSid));
    const listing = await this.directoryListing();
    for (const entry of listing?.calls ?? []) {
      // A call of this instance that is no longer in the registry has just ended.
      if (local.has(entry.callSid) || entry.instance === this.directory.instanceId) continue;
      rows.push(remoteRow(entry, cluster));
    }
    const calls = rows.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    const partial = cluster && (!listing || listing.partial);
    return partial ? { calls, partial } : { calls };
  }

  /**
   * The last RECENT_CALLS finished calls, newest first: this instance's (with their timelines)
   * and the cluster's records (the directory's; Redis in cluster mode).
   */
  async recentCalls(): Promise<RecentCallSummary[]> {
    const rows = this.recent.map(({ call, record }) => summaryOf(call, record!));
    const seen = new Set(rows.map((row) => row.call.callSid));
    for (const record of await this.directoryRecords()) {
      if (seen.has(record.callSid)) continue;
      seen.add(record.callSid);
      const ended = record as unknown as CallEndedEvent & CallRecordEntry;
      rows.push(summaryOf(recordRow(ended, this.clusterMode), ended));
    }
    return rows.sort((a, b) => b.endedAt.localeCompare(a.endedAt)).slice(0, RECENT_CALLS);
  }

  /** A call another instance carried, from its record in the directory; undefined otherwise. */
  async recordDetail(callSid: string): Promise<CallDetail | undefined> {
    const record = (await this.directoryRecords()).find((r) => r.callSid === callSid);
    if (!record) return undefined;
    const ended = record as unknown as CallEndedEvent & CallRecordEntry;
    return {
      call: recordRow(ended, this.clusterMode),
      entries: [],
      droppedEntries: 0,
      record: ended,
    };
  }

  private get clusterMode(): boolean {
    return this.directory.health().mode === 'redis';
  }

  /** The directory's live calls; undefined when it failed. */
  private async directoryListing(): Promise<CallListing | undefined> {
    try {
      return await this.directory.listing();
    } catch {
      return undefined;
    }
  }

  private async directoryRecords(): Promise<CallRecordEntry[]> {
    try {
      return await this.directory.recentRecords(RECENT_CALLS);
    } catch {
      return [];
    }
  }
}
