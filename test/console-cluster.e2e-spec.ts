import { jest } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { artifactPath, launchChromium, openPage } from './support/browser.js';
import type { RunningBridge } from './support/bridge.js';
import { BridgePair } from './support/bridge-pair.js';
import type { FakeRealtimeConnection, FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioCall } from './support/fake-twilio.js';
import type { TestRedis } from './support/redis-server.js';

// The console in Chromium on instance B of a two-instance cluster, watching a call that A
// carries: the row, then the call's view relayed from A (its transcript as it happens, its
// figures, its end), as behind a balancer that sent the page to B.

jest.setTimeout(60_000);

const API_TOKEN = 'console-cluster-token-0123456789ab';
const CLUSTER_SECRET = 'console-cluster-e2e-secret-1c3e5a7b9d2f4a6c';

describe('the console on another instance than the call', () => {
  let cluster: BridgePair;
  let redis: TestRedis;
  let openai: FakeRealtimeServer;
  let a: RunningBridge;
  let b: RunningBridge;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let call: FakeTwilioCall;
  let session: FakeRealtimeConnection;

  beforeAll(async () => {
    cluster = await BridgePair.start({
      name: 'console',
      apiToken: API_TOKEN,
      clusterSecret: CLUSTER_SECRET,
    });
    ({ redis, openai, a, b } = cluster);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    ({ page, errors } = await openPage(context));
  });

  afterAll(async () => {
    call?.hangUp();
    await context?.close();
    await browser?.close();
    await cluster?.stop();
  });

  it("opens A's call from B's page and follows it live until it ends", async () => {
    call = await FakeTwilioCall.dial(a.baseUrl, { from: '+15550004444' });
    session = await openai.connection(0);
    await session.waitFor('session.update');
    await page.goto(`${b.baseUrl}/console`);
    await page.locator('[data-testid="token"]').fill(API_TOKEN);
    await page.locator('[data-action="login"]').click();
    const row = page.locator(`tr[data-call-sid="${call.callSid}"]`);
    await row.getByText('Other instance').waitFor();
    await row.click();

    const view = page.locator(`[data-view-call-sid="${call.callSid}"]`);
    await view.locator('h2').getByText('+15550004444').waitFor();
    // With the Instance column, the table still fits its card at a laptop's width.
    for (const width of [1280, 1440]) {
      await page.setViewportSize({ width, height: 900 });
      const wrap = await page.locator('table.calls').evaluate((table) => {
        const el = table.parentElement as unknown as { scrollWidth: number; clientWidth: number };
        return { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth };
      });
      expect(wrap.scrollWidth).toBeLessThanOrEqual(wrap.clientWidth);
    }
    session.send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_b1',
      content_index: 0,
      transcript: 'Seen from the other instance.',
    });
    await view.locator('[data-testid="transcript"]').getByText('Seen from the other').waitFor();
    // The figures come from A a few times a second: the state pill is the call's, not "remote".
    await view.locator('[data-call-state="talking"]').first().waitFor();
    await page.screenshot({ path: artifactPath('console-cluster-view.png'), fullPage: true });

    call.hangUp();
    await view.locator('[data-call-state="ended"]').first().waitFor({ timeout: 10_000 });
    expect(errors).toEqual([]);
  });

  it('says the list holds only this instance’s calls while Redis is away, and stops saying it once back', async () => {
    const notice = page.locator('[data-testid="partial-calls"]');
    expect(await notice.count()).toBe(0);
    await redis.stop();
    try {
      await notice.waitFor({ timeout: 15_000 });
      expect(await notice.innerText()).toContain("only this instance's calls");
    } finally {
      await redis.start();
    }
    await notice.waitFor({ state: 'detached', timeout: 15_000 });
  });
});
