import { InMemoryWebhookDeliveries } from './webhook-deliveries.js';

describe('InMemoryWebhookDeliveries', () => {
  it('says first delivery once per id', async () => {
    const deliveries = new InMemoryWebhookDeliveries();
    expect(await deliveries.firstDelivery('msg_1')).toBe(true);
    expect(await deliveries.firstDelivery('msg_1')).toBe(false);
    expect(await deliveries.firstDelivery('msg_2')).toBe(true);
  });

  it('forgets an id after its time to live', async () => {
    let now = 0;
    const deliveries = new InMemoryWebhookDeliveries(1000, 100, () => now);
    await deliveries.firstDelivery('msg_1');
    now = 999;
    expect(await deliveries.firstDelivery('msg_1')).toBe(false);
    now = 1000;
    expect(await deliveries.firstDelivery('msg_1')).toBe(true);
    expect(deliveries.size).toBe(1);
  });

  it('keeps at most maxEntries ids, forgetting the oldest first', async () => {
    const deliveries = new InMemoryWebhookDeliveries(60_000, 3);
    for (const id of ['a', 'b', 'c', 'd']) await deliveries.firstDelivery(id);
    expect(deliveries.size).toBe(3);
    expect(await deliveries.firstDelivery('b')).toBe(false);
    expect(await deliveries.firstDelivery('d')).toBe(false);
    expect(await deliveries.firstDelivery('a')).toBe(true);
  });
});
