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
 * Calls erased from the history, told to every instance of the cluster (this one too): each
 * forgets what it keeps of them in memory (the console's recent calls, the events backlog).
 * Signed on the bus like every message; one that is lost leaves the call in an instance's
 * memory until newer calls push it out.
 */
export class CallErasures {
  private readonly listeners: Array<(callSid: string) => void> = [];
  private subscribed = false;

  /** `channels`: the cluster's bus, undefined for a single instance. */
  constructor(private readonly channels: () => ClusterChannels | undefined) {}

  /** `listener` runs for every call erased anywhere in the cluster. */
  onErased(listener: (callSid: string) => void): void {
    this.listeners.push(listener);
    const channels = this.channels();
    if (this.subscribed || !channels) return;
    this.subscribed = true;
    const channel = redisKeys.callsErased;
    channels
      .subscribe(channel, (raw) => {
        // A replayed message names a call erased already: it erases nothing new.
        const message = channels.open(channel, raw, callErasedSchema);
        if (message && message.from !== channels.instanceId) this.tell(message.callSid);
      })
      .catch(() => undefined);
  }

  /** Tells this instance's listeners at once, then the others'. */
  async erased(callSid: string): Promise<void> {
    this.tell(callSid);
    const channels = this.channels();
    if (!channels) return;
    const from = channels.instanceId;
    await channels.publish(redisKeys.callsErased, { type: 'call-erased', callSid, from });
  }

  private tell(callSid: string): void {
    for (const listener of this.listeners) listener(callSid);
  }
}
