import { z } from 'zod';
import { CALL_ID_PATTERN } from '../call/call-id.js';
import type { ClusterChannels } from './cluster-channels.js';
import { redisKeys } from './redis-keys.js';

/** The bus message that tells the cluster of an erased call. */
const callErasedSchema = z.strictObject({
  type: z.literal('call-erased'),
  callSid: z.string().regex(CALL_ID_PATTERN),
  /** INSTANCE_ID's own rule (config/env.schema.ts): the instance that told its own at once. */
  from: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/),
});

/**
 * `elsewhere`: another instance served the erasure. This one may still hold the call's record
 * or recording on their way (the call ended here a moment ago), which only it can erase.
 */
export type ErasureListener = (callSid: string, elsewhere: boolean) => void;

/**
 * Calls erased from the history, told to every instance of the cluster (this one too): each
 * forgets what it keeps of them in memory (the console's recent calls, the events backlog) and
 * erases what it still holds of them (history/erased-elsewhere.ts). Signed on the bus like every
 * message; one that is lost leaves the call in an instance's memory until newer calls push it
 * out, and what that instance still held of it is kept (docs/history.md).
 */
export class CallErasures {
  private readonly listeners: ErasureListener[] = [];
  private subscribed = false;

  /** `channels`: the cluster's bus, undefined for a single instance. */
  constructor(private readonly channels: () => ClusterChannels | undefined) {}

  /** `listener` runs for every call erased anywhere in the cluster. */
  onErased(listener: ErasureListener): void {
    this.listeners.push(listener);
    const channels = this.channels();
    if (this.subscribed || !channels) return;
    this.subscribed = true;
    const channel = redisKeys.callsErased;
    channels
      .subscribe(channel, (raw) => {
        // A replayed message names a call erased already: it erases nothing new. This
        // instance's own was told at once (erased), its work done by the erasure itself.
        const message = channels.open(channel, raw, callErasedSchema);
        if (message && message.from !== channels.instanceId) this.tell(message.callSid, true);
      })
      .catch(() => undefined);
  }

  /** Tells this instance's listeners at once, then the others'. */
  async erased(callSid: string): Promise<void> {
    this.tell(callSid, false);
    const channels = this.channels();
    if (!channels) return;
    const from = channels.instanceId;
    await channels.publish(redisKeys.callsErased, { type: 'call-erased', callSid, from });
  }

  private tell(callSid: string, elsewhere: boolean): void {
    for (const listener of this.listeners) listener(callSid, elsewhere);
  }
}
