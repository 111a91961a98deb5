import { jest } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { artifactPath, launchChromium, openPage } from './support/browser.js';
import type { RunningBridge } from './support/bridge.js';
import { BridgePair } from './support/bridge-pair.js';
import type { FakeRealtimeConnection, FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioCall } from './support/fake-twilio.js';
import type { TestRedis } from './support/redis-server.js';
import { waitUntil } from './support/wait.js';

// The console in Chromium on instance B of a two-instance cluster, watching a call that A
// carries: the row, then the call's view relayed from A (its transcript as it happens, its
// figures, its end), as behind a balancer that sent the page to B; and the page through what
// refuses its streams for a while (a frozen Redis, a 503), which it outlives by opening them again.

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

  it("reopens a relayed call's view that a hung Redis ended, saying meanwhile that it is stale", async () => {
    const next = openai.connections.length;
    const caller = await FakeTwilioCall.dial(a.baseUrl, { from: '+15550005555' });
    try {
      const model = await openai.connection(next);
      await model.waitFor('session.update');
      await page.locator(`tr[data-call-sid="${caller.callSid}"] [data-action="open-call"]`).click();
      const view = page.locator(`[data-view-call-sid="${caller.callSid}"]`);
      const transcript = view.locator('[data-testid="transcript"]');
      const said = (item: string, text: string) =>
        model.send({
          type: 'conversation.item.input_audio_transcription.completed',
          item_id: item,
          content_index: 0,
          transcript: text,
        });
      said('item_h1', 'Said before the hang.');
      await transcript.getByText('Said before the hang.').waitFor();
      const stale = view.locator('[data-testid="call-view-stale"]');
      expect(await stale.count()).toBe(0);

      // Frozen Redis: the relay from A ends (the bus failed), and the browser's own reconnect to
      // B is refused 503 (the session cannot be checked), after which EventSource never retries.
      const refused = page.waitForResponse(
        (r) => r.url().endsWith(`/calls/${caller.callSid}/live`) && r.status() === 503,
        { timeout: 20_000 },
      );
      redis.pause();
      try {
        await refused;
        await stale.waitFor();
      } finally {
        redis.resume();
      }

      // Back: the page opens the stream again on its own, and its fresh snapshot replaces what
      // was shown (no entry twice); what is said afterwards arrives as before.
      said('item_h2', 'Said after the hang.');
      await transcript.getByText('Said after the hang.').waitFor({ timeout: 30_000 });
      await stale.waitFor({ state: 'detached' });
      expect(await transcript.getByText('Said before the hang.').count()).toBe(1);
      said('item_h3', 'Said once it is live again.');
      await transcript.getByText('Said once it is live again.').waitFor();
      expect(await transcript.locator('li[data-kind="turn"]').count()).toBe(3);
      // The browser logs each refused stream (503) as a failed resource: that, and nothing else.
      expect(errors.filter((e) => !e.includes('503'))).toEqual([]);
    } finally {
      caller.hangUp();
    }
  });

  it('opens the calls table again after its stream was refused, without logging out', async () => {
    // A 503 (Redis away, or too many streams) makes EventSource give up for good.
    let refusals = 0;
    await page.route('**/console/api/live', (route) => {
      refusals++;
      return route.fulfill({ status: 503, contentType: 'application/json', body: '{}' });
    });
    await page.reload();
    await page.locator('.topbar-status').getByText('Reconnecting…').waitFor();
    const caller = await FakeTwilioCall.dial(b.baseUrl, { from: '+15550006666' });
    try {
      // Refused, checked (api/me: 200, so not logged out), and tried again.
      await waitUntil(() => refusals >= 2, 'a second try of the refused stream', 10_000);
      await page.unroute('**/console/api/live');
      await page.locator(`tr[data-call-sid="${caller.callSid}"]`).waitFor({ timeout: 15_000 });
      await page.locator('.topbar-status').getByText('Live').waitFor();
      expect(await page.locator('[data-testid="token"]').count()).toBe(0);
    } finally {
      caller.hangUp();
    }
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
