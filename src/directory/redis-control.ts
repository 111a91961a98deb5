import { randomUUID } from 'node:crypto';
import {
  controlFailure,
  type ControlCommand,
  type ControlResult,
  type LiveCall,
} from './call-directory.js';
import { controlChannelSchema, type ControlReply, type ControlRequest } from './bus-messages.js';
import { BUS_MESSAGE_WINDOW_MS } from './bus-envelope.js';
import {
  CONTROL_ACCEPT_WINDOW_MS,
  MAX_PENDING_CONTROL,
  MAX_SEEN_CONTROL_IDS,
  SIP_HANGUP_CONTROL_TIMEOUT_MS,
} from './cluster.constants.js';
import type { MemoryCallDirectory } from './memory-call-directory.js';
import type { RedisLeases } from './redis-leases.js';
import { redisKeys as keys } from './redis-keys.js';
import type { RedisStore } from './redis-store.js';
import { SeenIds } from './seen-ids.js';
import type { SignedBus } from './signed-bus.js';

/**
 * Call control across instances, over pub/sub: a request on the owner's channel
 * (`bridge:control:<instance>`), the answer on the asker's. Both are signed; the owner runs a
 * request through the same handler as its own API's (which checks the command again: the bus
 * is never trusted to have checked it) and runs each request id once.
 */
export class RedisControl {
  private readonly pending = new Map<string, (result: ControlResult) => void>();
  /** Request ids already run (older ones are stale anyway). */
  private readonly seen = new SeenIds(MAX_SEEN_CONTROL_IDS);

  constructor(
    private readonly store: RedisStore,
    private readonly bus: SignedBus,
    private readonly local: MemoryCallDirectory,
    private readonly leases: RedisLeases,
    private readonly instanceId: string,
    private readonly timeoutMs: number,
  ) {}

  /** This instance's control channel. */
  get channel(): string {
    return keys.control(this.instanceId);
  }

  async control(callSid: string, command: ControlCommand): Promise<ControlResult> {
    if (this.local.isLocal(callSid)) return this.local.controlLocal(callSid, command);
    const call = await this.leases.lookup(callSid);
    if (call === 'failed') {
      return controlFailure(
        'unavailable',
        `no live call ${callSid} here, and Redis did not answer`,
      );
    }
    if (!call) return controlFailure('unknown_call', `no live call ${callSid}`);
    if (this.pending.size >= MAX_PENDING_CONTROL) {
      return controlFailure('unavailable', 'too many control requests in flight');
    }
    const id = randomUUID();
    const answer = new Promise<ControlResult>((resolve) => {
      const timer = setTimeout(
        () => {
          this.pending.delete(id);
          resolve(controlFailure('timeout', `instance ${call.instance} did not answer in time`));
        },
        this.answerTimeoutMs(call, command),
      );
      this.pending.set(id, (result) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(result);
      });
    });
    const request: ControlRequest = {
      type: 'control',
      id,
      replyTo: this.instanceId,
      callSid,
      command,
    };
    const receivers = await this.bus.publish('control', keys.control(call.instance), request);
    if (!receivers) {
      this.pending.get(id)?.(
        controlFailure(
          'unavailable',
          `instance ${call.instance} (owner of ${callSid}) cannot be reached`,
        ),
      );
    }
    return answer;
  }

  /**
   * A message on this instance's control channel. A request older than CONTROL_ACCEPT_WINDOW_MS
   * is dropped (`expired`): its action could end after its asker gave up (answered 504), and a
   * hang-up or transfer carried out then (after this instance was stalled, or the message held
   * up) would act on a call behind the back of whoever was told it failed. Answers and beats
   * only need to be of the bus's window: a late one acts on nothing.
   */
  onMessage(raw: Buffer): void {
    const message = this.bus.open(this.channel, raw, controlChannelSchema, (m) =>
      m.type === 'control' ? CONTROL_ACCEPT_WINDOW_MS : BUS_MESSAGE_WINDOW_MS,
    );
    if (message?.type === 'control') void this.answer(message);
    else if (message?.type === 'reply') this.pending.get(message.id)?.(message.result);
  }

  /** Publishes this instance's beat on its own channel (SubscriberWatch listens for it). */
  beat(): Promise<number | undefined> {
    return this.bus.publish('beat', this.channel, { type: 'beat' });
  }

  /** How long the owner may take: a SIP call's hang-up is retried for longer than the rest. */
  private answerTimeoutMs(call: LiveCall, command: ControlCommand): number {
    return call.transport === 'sip' && command.action === 'hangup'
      ? Math.max(this.timeoutMs, SIP_HANGUP_CONTROL_TIMEOUT_MS)
      : this.timeoutMs;
  }

  /** Closing: every request still waiting gets its answer now. */
  closeAll(): void {
    for (const [id, resolve] of this.pending) {
      this.pending.delete(id);
      resolve(controlFailure('unavailable', 'this instance is shutting down'));
    }
  }

  private async answer(request: ControlRequest): Promise<void> {
    if (!this.seen.firstTime(request.id)) return void this.bus.reject('replayed', this.channel);
    const result = this.local.isLocal(request.callSid)
      ? await this.local.controlLocal(request.callSid, request.command)
      : controlFailure('unknown_call', `no live call ${request.callSid}`);
    const reply: ControlReply = { type: 'reply', id: request.id, result };
    await this.bus.publish('control', keys.control(request.replyTo), reply);
  }
}
