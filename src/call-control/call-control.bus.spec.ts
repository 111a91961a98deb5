import { HttpException } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { TestRedis } from '../../test/support/redis-server.js';
import type { CallRegistry } from '../call/call-registry.service.js';
import { RedisCallDirectory } from '../directory/redis-call-directory.js';
import type { CallControlConfig } from '../config/config.namespaces.js';
import { Secret } from '../config/secret.js';
import type { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';
import { CallControlService } from './call-control.service.js';
import { controlResponse } from './control-response.js';

// Two instances of a cluster on one real redis-server: A is asked, B carries the call.

const SID = `CA${'f'.repeat(32)}`;
const quiet = {
  storeState: () => undefined,
  storeError: () => undefined,
  busRejected: () => undefined,
};

let redis: TestRedis;
const open: RedisCallDirectory[] = [];

beforeAll(async () => {
  redis = await TestRedis.start();
});
afterAll(async () => {
  await Promise.all(open.map((directory) => directory.close()));
  await redis.destroy();
});

async function instance(instanceId: string, cfg: Partial<CallControlConfig>) {
  const directory = await RedisCallDirectory.connect({
    url: redis.url,
    secret: new Secret('spec-cluster-secret-0123456789abcdef'),
    instanceId,
    events: new EventEmitter2({ wildcard: true, delimiter: '.' }),
    observer: quiet,
    log: { log: () => undefined, warn: () => undefined },
  });
  open.push(directory);
  const redirects: string[] = [];
  const session = { context: { accountSid: `AC${'0'.repeat(32)}` }, close: () => undefined };
  const registry = { get: (sid: string) => (sid === SID ? session : undefined) };
  const rest = {
    available: true,
    redirect: (_account: string, _sid: string, twiml: string) => {
      redirects.push(twiml);
      return Promise.resolve();
    },
  };
  const control = new CallControlService(
    directory,
    registry as unknown as CallRegistry,
    rest as unknown as TwilioRestService,
    { transferNumber: undefined, transferAllowedNumbers: [], ...cfg } as CallControlConfig,
  );
  control.onModuleInit();
  return { directory, control, redirects };
}

describe('call control over the cluster bus', () => {
  it('carries the owner’s domain answer back: a transfer B refuses is a 409 on A', async () => {
    const a = await instance('A', { transferNumber: '+15550003333' });
    const b = await instance('B', {}); // no transfer number: transfers are off on B
    await b.directory.admit({
      callSid: SID,
      instance: 'B',
      startedAt: new Date().toISOString(),
      direction: 'inbound',
    });

    const result = await a.control.transfer(SID, '+15550003333');

    expect(result).toEqual({
      ok: false,
      error: 'refused',
      reason: 'no transfer number configured',
    });
    expect(b.redirects).toEqual([]);
    let status: number | undefined;
    try {
      controlResponse(SID, result);
    } catch (error) {
      status = (error as HttpException).getStatus();
    }
    expect(status).toBe(409);
  });
});
