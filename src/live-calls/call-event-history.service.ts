import { Injectable } from '@nestjs/common';
import { CallDirectory } from '../directory/call-directory.js';
import { CallEventBus } from '../events/call-event-bus.js';
import { CallEvent, type AnyCallEvent } from '../events/call-events.js';

/** Events kept per call: the latest, so a long call's history stays bounded. */
const MAX_EVENTS_PER_CALL = 200;
/** Calls whose history is kept (live and recently ended); the oldest is forgotten first. */
const MAX_CALLS = 1000;
/** How long an ended call's events stay readable (a follower that connects just after the end). */
const ENDED_RETENTION_MS = 60_000;
/** Ended calls are swept at most this often, not on every event. */
const PRUNE_EVERY_MS = 1_000;

interface History {
  events: AnyCallEvent[];
  endedAt?: number;
}

/**
 * The events of each call so far, so `GET /api/calls/:callSid/events` starts with what already
 * happened (a follower that connects after the first transcript still sees it) and then follows
 * live. In memory and bounded: MAX_EVENTS_PER_CALL per call, MAX_CALLS calls, ended calls for
 * ENDED_RETENTION_MS.
 */
@Injectable()
export class CallEventHistory {
  /** callSid -> history; a Map iterates in insertion order, so the oldest call first. */
  private readonly calls = new Map<string, History>();
  private prunedAt = 0;

  constructor(bus: CallEventBus, directory: CallDirectory) {
    bus.follow('CallEventHistory', (event) => this.record(event));
    directory.onCallErased((callSid) => this.calls.delete(callSid));
  }

  record(event: AnyCallEvent): void {
    const now = Date.now();
    this.prune(now);
    let history = this.calls.get(event.callSid);
    if (!history) {
      if (this.calls.size >= MAX_CALLS) this.calls.delete(this.calls.keys().next().value!);
      history = { events: [] };
      this.calls.set(event.callSid, history);
    }
    if (history.events.push(event) > MAX_EVENTS_PER_CALL) history.events.shift();
    if (event.event === CallEvent.Ended) history.endedAt = now;
  }

  /** The call's events so far (a copy), oldest first. */
  of(callSid: string): AnyCallEvent[] {
    return [...(this.calls.get(callSid)?.events ?? [])];
  }

  private prune(now: number): void {
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    for (const [callSid, history] of this.calls) {
      if (history.endedAt !== undefined && now - history.endedAt > ENDED_RETENTION_MS) {
        this.calls.delete(callSid);
      }
    }
  }
}
