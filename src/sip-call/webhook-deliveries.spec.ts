import { EventEmitter2 } from '@nestjs/event-emitter';
import { MemoryCallDirectory } from '../directory/memory-call-directory.js';
import type { TtlMemoryOptions } from '../directory/ttl-memory.js';
import { WEBHOOK_DEDUPE_TTL_MS } from './sip.constants.js';
import { WebhookDeliveries } from './webhook-deliveries.js';

/** The deliveries memory over the default (in-memory) CallDirectory. */
function deliveriesWith(memory: TtlMemoryOptions = {}) {
  const directory = new MemoryCallDirectory({
    instanceId: 'A',
    events: new EventEmitter2(),
    memory,
  });
  return { deliveries: new WebhookDeliveries(directory), memory: directory.memory };
}

describe('WebhookDeliveries', () => {
  it('says first delivery once per id', async () => {
    const { deliveries } = deliveriesWith();
    expect(await deliveries.firstDelivery('msg_1')).toBe(true);
    expect(await deliveries.firstDelivery('msg_1')).toBe(false);
    expect(await deliveries.firstDelivery('msg_2')).toBe(true);
  });

  it('forgets an id after its time to live', async () => {
    let now = 0;
    const { deliveries } = deliveriesWith({ now: () => now });
    await deliveries.firstDelivery('msg_1');
    now = WEBHOOK_DEDUPE_TTL_MS - 1;
    expect(await deliveries.firstDelivery('msg_1')).toBe(false);
    now = WEBHOOK_DEDUPE_TTL_MS;
    expect(await deliveries.firstDelivery('msg_1')).toBe(true);
  });

  it('keeps at most WEBHOOK_DEDUPE_MAX_ENTRIES ids, forgetting the oldest first', async () => {
    const { deliveries, memory } = deliveriesWith({ maxEntries: { 'webhook-id': 3 } });
    for (const id of ['a', 'b', 'c', 'd']) await deliveries.firstDelivery(id);
    expect(memory.size('webhook-id')).toBe(3);
    expect(await deliveries.firstDelivery('d')).toBe(false);
    expect(await deliveries.firstDelivery('a')).toBe(true);
  });
});
