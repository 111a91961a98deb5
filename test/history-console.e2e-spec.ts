import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallEventBus } from '../src/events/call-event-bus.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, openPage } from './support/browser.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioCall } from './support/fake-twilio.js';
import { modelCallsTool } from './support/tool-calls.js';
import { sleep } from './support/wait.js';

// The console's History view in Chromium against the real application with the embedded
// database: filters and search, a call's page, the player seeked by a turn, CSV, erasure.

const API_TOKEN = 'history-console-token-0123456789';
const RECORDING = { durationMs: 9000, channels: 2, sampleRate: 8000, bytes: 288_044 };

describe('the console History view', () => {
  let browser: Browser;
  let context: BrowserContext;
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge;
  let dataDir: string;

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${bridge.baseUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${API_TOKEN}`, ...init.headers },
    });

  async function recordOf(callSid: string, ready: (r: any) => boolean = () => true) {
    for (let i = 0; i < 100; i++) {
      const res = await api(`/api/history/${callSid}`);
      if (res.status === 200) {
        const body = (await res.json()) as Record<string, any>;
        if (ready(body)) return body;
      }
      await sleep(100);
    }
    throw new Error(`no record of ${callSid}`);
  }

  async function endedCall(from: string, words: string): Promise<string> {
    const call = await FakeTwilioCall.dial(bridge.baseUrl, { from });
    const upstream = await openai.connection(openai.connections.length);
    await upstream.waitFor('session.update');
    upstream.send({
      type: 'input_audio_buffer.committed',
      item_id: 'item_u1',
      previous_item_id: null,
    });
    upstream.send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_u1',
      content_index: 0,
      transcript: words,
    });
    modelCallsTool(upstream, 'r1', 'c1', 'lookup_branch', { city: 'Lyon' }).done();
    await upstream.waitFor(
      'conversation.item.create',
      (e) => (e.item as { type: string }).type === 'function_call_output',
    );
    call.stop();
    await call.waitForClose();
    await recordOf(call.callSid);
    return call.callSid;
  }

  /** Waits until the list shows `n` rows (the page's CSP forbids evaluating strings). */
  let rowCount: (n: number) => Promise<void>;

  async function logIn(page: Page): Promise<void> {
    await page.goto(`${bridge.baseUrl}/console`);
    await page.locator('[data-testid="token"]').fill(API_TOKEN);
    await page.locator('[data-action="login"]').click();
    await page.locator('[data-action="show-history"]').click();
    await page.getByRole('heading', { name: 'Call history' }).waitFor();
  }

  beforeAll(async () => {
    browser = await launchChromium();
    dataDir = mkdtempSync(join(tmpdir(), 'bridge-history-console-'));
    openai = new FakeRealtimeServer();
    await openai.start();
    bridge = await startBridge({
      OPENAI_REALTIME_URL: openai.url,
      AUDIO_INPUT_FORMAT: 'g711_ulaw',
      API_TOKEN,
      HISTORY: 'on',
      DATA_DIR: dataDir,
    });
    context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await bridge?.close();
    await openai?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finds calls, plays a call from the turn clicked, exports CSV and erases after confirm()', async () => {
    const plumber = await endedCall('+15550003333', 'I need a plumber in Lyon');
    const other = await endedCall('+15550004444', 'What are your opening hours?');
    // The recordings module reports a recording for the first call (the internal event).
    bridge.app
      .get(CallEventBus)
      .emit('recording.saved', { callSid: plumber, recording: RECORDING });
    await recordOf(plumber, (r) => r.recording !== null);

    const { page, errors } = await openPage(context);
    await logIn(page);
    const rows = page.locator('[data-history-call-sid]');
    rowCount = async (n) => {
      for (let i = 0; i < 100 && (await rows.count()) !== n; i++) await sleep(100);
      expect(await rows.count()).toBe(n);
    };
    await rows.nth(1).waitFor();
    const sids = await Promise.all(
      (await rows.all()).map((row) => row.getAttribute('data-history-call-sid')),
    );
    expect(sids).toEqual([other, plumber]);

    await page.locator('[data-filter="q"]').fill('PLUMBER');
    await page.locator('[data-action="history-search"]').click();
    await rowCount(1);
    expect(await rows.first().getAttribute('data-history-call-sid')).toBe(plumber);
    const csv = await page.locator('[data-action="history-csv"]').getAttribute('href');
    expect(csv).toMatch(/format=csv/);
    expect(csv).toMatch(/q=PLUMBER/);
    const exported = await page.evaluate(async (href) => (await fetch(href!)).text(), csv);
    expect(exported.trim().split('\r\n')).toHaveLength(2);
    expect(exported).toContain(plumber);

    await page.locator('[data-filter="q"]').fill('no such words');
    await page.locator('[data-action="history-search"]').click();
    await page.locator('[data-history-empty]').waitFor();
    await page.locator('[data-filter="q"]').fill('');
    await page.locator('[data-filter="number"]').fill('+15550003333');
    await page.locator('[data-action="history-search"]').click();
    await rowCount(1);

    // From the keyboard: the row's first cell is a button.
    await rows.first().locator('[data-action="open-history"]').focus();
    await page.keyboard.press('Enter');
    const callPage = page.locator(`[data-history-call="${plumber}"]`);
    await callPage.waitFor();
    await expect(callPage.textContent()).resolves.toContain('I need a plumber in Lyon');
    expect(await callPage.locator('[data-testid="turns-omitted"]').count()).toBe(0);
    await expect(callPage.locator('[data-history-tools]').textContent()).resolves.toContain(
      'lookup_branch',
    );
    const audio = callPage.locator('audio[data-history-audio]');
    expect(await audio.getAttribute('src')).toBe(`/console/api/history/${plumber}/recording`);
    const record = await recordOf(plumber);
    const turns = record.transcript as Array<{ atMs: number }>;
    const last = turns.length - 1;
    await callPage.locator(`[data-turn-index="${last}"] [data-action="seek-turn"]`).focus();
    await page.keyboard.press('Enter');
    expect(
      await audio.evaluate((el) =>
        Math.round((el as unknown as { currentTime: number }).currentTime * 1000),
      ),
    ).toBe(turns[last].atMs);

    // Cancelled: nothing happens. Accepted: the record is gone.
    page.once('dialog', (dialog) => void dialog.dismiss());
    await callPage.locator('[data-action="history-delete"]').click();
    await sleep(200);
    expect((await api(`/api/history/${plumber}`)).status).toBe(200);
    page.once('dialog', (dialog) => void dialog.accept());
    await callPage.locator('[data-action="history-delete"]').click();
    await page.getByRole('heading', { name: 'Call history' }).waitFor();
    expect((await api(`/api/history/${plumber}`)).status).toBe(404);
    expect((await api(`/api/history/${other}`)).status).toBe(200);
    // Nor does the console show it from memory: its recent calls, its call view.
    const recent = await (await api('/console/api/recent')).text();
    expect(recent).toContain(other);
    expect(recent).not.toContain(plumber);
    expect((await api(`/console/api/calls/${plumber}`)).status).toBe(404);
    expect((await api(`/console/api/calls/${other}`)).status).toBe(200);
    expect(errors.filter((e) => !/recording|404|Failed to load resource/.test(e))).toEqual([]);
  }, 120_000);

  it('says how many turns a call longer than its memory left out of its record', async () => {
    const TURNS = 405;
    const call = await FakeTwilioCall.dial(bridge.baseUrl, { from: '+15550005555' });
    const upstream = await openai.connection(openai.connections.length);
    await upstream.waitFor('session.update');
    const said = new Set<string>();
    const unfollow = bridge.app
      .get(CallEventBus)
      .follow('test', (event) => event.event === 'call.transcript' && said.add(event.text));
    let previous: string | null = null;
    for (let i = 0; i < TURNS; i++) {
      upstream.send({
        type: 'input_audio_buffer.committed',
        item_id: `item_u${i}`,
        previous_item_id: previous,
      });
      upstream.send({
        type: 'conversation.item.input_audio_transcription.completed',
        item_id: `item_u${i}`,
        content_index: 0,
        transcript: `turn ${i}`,
      });
      previous = `item_u${i}`;
    }
    for (let i = 0; i < 100 && !said.has(`turn ${TURNS - 1}`); i++) await sleep(50);
    unfollow();
    call.stop();
    await call.waitForClose();
    const record = await recordOf(call.callSid);
    expect(record.turnsOmitted).toBe(5);
    expect(record.transcript).toHaveLength(400);
    expect(record.transcript[0]).toMatchObject({ text: 'turn 5' });

    // A context of its own: the first test's left its session cookie in the shared one.
    const ownContext = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const { page, errors } = await openPage(ownContext);
    await logIn(page);
    await page.locator('[data-filter="number"]').fill('+15550005555');
    await page.locator('[data-action="history-search"]').click();
    await page
      .locator(`[data-history-call-sid="${call.callSid}"] [data-action="open-history"]`)
      .click();
    const notice = page.locator(
      `[data-history-call="${call.callSid}"] [data-testid="turns-omitted"]`,
    );
    await notice.waitFor();
    expect((await notice.textContent())!.replace(/\s+/g, ' ')).toContain(
      'The first 5 turns are not kept',
    );
    expect(errors).toEqual([]);
    await ownContext.close();
  }, 120_000);
});
