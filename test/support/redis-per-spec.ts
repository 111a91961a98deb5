import { Redis } from 'ioredis';
import { TestRedis } from './redis-server.js';

/** What a spec file's directories need closed after each test. */
interface Closable {
  close(): Promise<void>;
}

/**
 * One real redis-server for a spec file: started before its tests, and after each test running
 * again (a test may have stopped or frozen it), empty, with the directories the test opened
 * (`open`) closed.
 */
export function redisPerSpec(): { readonly redis: TestRedis; readonly open: Closable[] } {
  let redis: TestRedis | undefined;
  const open: Closable[] = [];
  beforeAll(async () => {
    redis = await TestRedis.start();
  });
  afterAll(async () => {
    await redis?.destroy();
  });
  afterEach(async () => {
    redis!.resume();
    await Promise.all(open.splice(0).map((directory) => directory.close()));
    if (!redis!.running) await redis!.start();
    const admin = new Redis(redis!.url);
    await admin.flushall();
    admin.disconnect();
  });
  return {
    get redis() {
      return redis!;
    },
    open,
  };
}
