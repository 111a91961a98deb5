import type { ChainableCommander } from 'ioredis';
import type { LiveCall, OrphanedLineHandler } from './call-directory.js';
import { liveCallSchema } from './bus-messages.js';
import {
  MAX_ORPHAN_LINES_PER_SWEEP,
  SIP_LINE_ORPHAN_GRACE_MS,
  SIP_LINE_RECORD_MAX_AGE_MS,
} from './cluster.constants.js';
import { redisKeys as keys } from './redis-keys.js';
import { EXPIRED_LINES, HOLD_LINE, TAKE_LINE } from './redis-scripts.js';
import type { RedisStore } from './redis-store.js';
import type { SignedBus } from './signed-bus.js';

interface LineScripts {
  expiredLines(lines: string, limit: number): Promise<string[]>;
  takeLine(
    lines: string,
    records: string,
    leases: string,
    ownerChannel: string,
    sid: string,
    expiry: string,
    checkOwner: '1' | '0',
  ): Promise<number>;
}

interface LinePipeline {
  holdLine(lines: string, records: string, sid: string, ttlMs: number, sealed: string): void;
}

/**
 * The lines of SIP calls, held in Redis from OpenAI's accept until OpenAI confirms them down
 * (renewed with the leases), and the search for lines no instance holds any more. A media call
 * ends with the instance that runs it (Twilio's socket closes); a SIP call does not, as OpenAI
 * carries it, so when its instance is gone, or its hang-up failed or was cut short by the
 * process's exit, an instance hangs it up (again) after SIP_LINE_ORPHAN_GRACE_MS.
 *
 * A line is taken for that only when it was seen unheld at the same expiry for the whole grace,
 * Redis up all the while, its call holding no live lease, its record signed by an instance of
 * the cluster, and that instance no longer subscribed to its control channel (Redis drops a
 * killed process's connections at once): one instance alone takes it (TAKE_LINE), and nothing
 * written into Redis by anyone else, nor a race against a live owner's heartbeat, hangs up a
 * call that an instance still carries.
 */
export class RedisSipLines {
  private readonly scripts: LineScripts;
  /** Unheld lines seen: call id -> the expiry seen and when it was first seen so. */
  private readonly suspects = new Map<string, { expiry: string; since: number }>();
  /** Calls of this instance whose line is held (accepted, not yet confirmed down). */
  private readonly held = new Set<string>();
  private handler?: OrphanedLineHandler;
  private sweeping = false;

  constructor(
    private readonly store: RedisStore,
    private readonly bus: SignedBus,
    private readonly leaseTtlMs: number,
    private readonly instanceId: string,
    /** A call this instance carries is never an orphan, whatever Redis says. */
    private readonly isMine: (callSid: string) => boolean,
    private readonly graceMs = SIP_LINE_ORPHAN_GRACE_MS,
  ) {
    const client = store.client;
    client.defineCommand('holdLine', { numberOfKeys: 2, lua: HOLD_LINE });
    client.defineCommand('expiredLines', { numberOfKeys: 1, lua: EXPIRED_LINES });
    client.defineCommand('takeLine', { numberOfKeys: 4, lua: TAKE_LINE });
    this.scripts = client as unknown as LineScripts;
  }

  /** Who hangs up a line found orphaned (the SIP transport); without one no line is looked for. */
  onOrphaned(handler: OrphanedLineHandler): void {
    this.handler = handler;
  }

  /**
   * OpenAI accepted the call: its line is held from now on (renewed with the lease) until
   * `release`. If this write fails, the next heartbeat holds it.
   */
  async hold(call: LiveCall): Promise<void> {
    if (!this.isMine(call.callSid)) return; // it ended meanwhile
    this.held.add(call.callSid);
    const pipeline = this.store.client.pipeline();
    this.queueHold(pipeline, call);
    await this.store.attempt('sip-lines', () => pipeline.exec());
  }

  /**
   * OpenAI confirmed the line down (hung up, referred, or ended by OpenAI): nobody needs to hang
   * it up any more. A line never released (its hang-up failed, or the process exited first) is
   * left to expire, and is then hung up again (sweep) by whichever instance finds it.
   */
  async release(callSid: string): Promise<void> {
    this.held.delete(callSid);
    await this.drop(callSid);
  }

  /** The call left this instance: its line, if still held, is renewed no more. */
  forgetLocal(callSid: string): void {
    this.held.delete(callSid);
  }

  /** The heartbeat's part: holds again, signed afresh, the line of a call held here. */
  queueHold(pipeline: ChainableCommander, call: LiveCall): void {
    if (!this.held.has(call.callSid)) return;
    (pipeline as unknown as LinePipeline).holdLine(
      keys.sipLines,
      keys.sipLineRecords,
      call.callSid,
      this.leaseTtlMs,
      this.bus.seal(keys.sipLine(call.callSid), call),
    );
  }

  /** The line and its record go (if this fails, the line expires and is looked at again). */
  private async drop(callSid: string): Promise<void> {
    await this.store.attempt('sip-lines', () =>
      this.store.client
        .multi()
        .zrem(keys.sipLines, callSid)
        .hdel(keys.sipLineRecords, callSid)
        .exec(),
    );
  }

  /** Redis came back: what was seen before the outage proves nothing about the grace. */
  forgetSuspects(): void {
    this.suspects.clear();
  }

  /** The heartbeat's part: lines unheld for the whole grace go to the handler. */
  async sweep(now = Date.now()): Promise<void> {
    if (!this.handler || this.sweeping || !this.store.isUp || this.store.isClosing) return;
    this.sweeping = true;
    try {
      const flat = await this.store.attempt('sip-lines', () =>
        this.scripts.expiredLines(keys.sipLines, MAX_ORPHAN_LINES_PER_SWEEP),
      );
      if (flat === undefined) return this.forgetSuspects();
      const seen = new Map<string, string>();
      for (let i = 0; i + 1 < flat.length; i += 2) seen.set(flat[i], flat[i + 1]);
      // A line held again, or gone, is no longer a suspect.
      for (const [sid, suspect] of this.suspects) {
        if (seen.get(sid) !== suspect.expiry) this.suspects.delete(sid);
      }
      const taken: Promise<void>[] = [];
      for (const [sid, expiry] of seen) {
        if (this.isMine(sid)) continue;
        const suspect = this.suspects.get(sid);
        // Suspects are only lines of this sweep's answer: at most MAX_ORPHAN_LINES_PER_SWEEP.
        if (!suspect) this.suspects.set(sid, { expiry, since: now });
        else if (now - suspect.since >= this.graceMs) taken.push(this.take(sid, expiry));
      }
      // The next sweep waits for these hang-ups: at most MAX_ORPHAN_LINES_PER_SWEEP at once.
      await Promise.allSettled(taken);
    } finally {
      this.sweeping = false;
    }
  }

  /**
   * Reads the line's call, then takes the line if it is still unheld at `expiry`, its call holds
   * no live lease and its owner no longer listens (TAKE_LINE), and hands the call on. A line
   * whose record is missing or not signed by the cluster is dropped (and counted), never acted on.
   */
  private async take(sid: string, expiry: string): Promise<void> {
    this.suspects.delete(sid);
    const sealed = await this.store.attempt('sip-lines', () =>
      this.store.client.hget(keys.sipLineRecords, sid),
    );
    if (sealed === undefined) return;
    const call = this.openRecord(sid, sealed);
    if (!call) return this.drop(sid);
    const taken = await this.store.attempt('sip-lines', () =>
      this.scripts.takeLine(
        keys.sipLines,
        keys.sipLineRecords,
        keys.leases,
        keys.control(call.instance),
        sid,
        expiry,
        // A line of this instance's name that it does not carry is an earlier process's (a
        // container restarted in place keeps its hostname and pid): this one's subscription
        // proves nothing about it.
        call.instance === this.instanceId ? '0' : '1',
      ),
    );
    if (taken === 1) await this.handler?.(call);
  }

  private openRecord(sid: string, sealed: string | null): LiveCall | undefined {
    const key = keys.sipLine(sid);
    if (sealed === null) return this.bus.reject('malformed', key);
    const call = this.bus.open(key, sealed, liveCallSchema, SIP_LINE_RECORD_MAX_AGE_MS);
    if (call && (call.callSid !== sid || call.transport !== 'sip')) {
      return this.bus.reject('invalid', key);
    }
    return call;
  }
}
