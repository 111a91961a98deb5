import { jest } from '@jest/globals';
import alawmulaw from 'alawmulaw';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { dominantFrequency, mulawTone } from './support/audio.js';
import { artifactPath, launchChromium, openPage } from './support/browser.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { FakeTwilioCall } from './support/fake-twilio.js';
import { sleep, waitUntil } from './support/wait.js';

// The console's Listen / Take over / Hand back in Chromium with a fake microphone playing a
// tone: the caller's tone reaches the page's audio graph (its AnalyserNode), and the
// microphone's tone reaches the fake Twilio caller during the takeover and stops at handback.

jest.setTimeout(60_000);

const API_TOKEN = 'listen-console-token-0123456789ab';
const CALLER_HZ = 440;
const MIC_HZ = 1000;

/** A 16-bit mono WAV of a tone, for Chromium's fake audio capture (it loops the file). */
function toneWav(path: string, frequencyHz: number, seconds: number, rate = 48_000): void {
  const samples = rate * seconds;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0);
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write('WAVEfmt ', 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36);
  wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) {
    wav.writeInt16LE(
      Math.round(12_000 * Math.sin((2 * Math.PI * frequencyHz * i) / rate)),
      44 + i * 2,
    );
  }
  writeFileSync(path, wav);
}

/** The decoded samples of the media frames Twilio received from index `from` on. */
function receivedSamples(call: FakeTwilioCall, from: number): Int16Array {
  const bytes = Buffer.concat(
    call.received
      .slice(from)
      .filter((frame) => frame.event === 'media')
      .map((frame) => Buffer.from(frame.media.payload as string, 'base64')),
  );
  return alawmulaw.mulaw.decode(bytes);
}

async function logIn(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/console`);
  await page.locator('[data-testid="token"]').fill(API_TOKEN);
  await page.locator('[data-action="login"]').click();
}

describe('listen-in and takeover in the console', () => {
  let browser: Browser;
  let context: BrowserContext;
  let otherContext: BrowserContext | undefined;
  let page: Page;
  let errors: string[];
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge;
  let call: FakeTwilioCall;
  let session: FakeRealtimeConnection;
  let pump: NodeJS.Timeout;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'listen-console-'));
    const wav = join(dir, 'mic-tone.wav');
    toneWav(wav, MIC_HZ, 2);
    browser = await launchChromium([
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}`,
      '--autoplay-policy=no-user-gesture-required',
    ]);
    openai = new FakeRealtimeServer();
    await openai.start();
    bridge = await startBridge({
      API_TOKEN,
      OPENAI_REALTIME_URL: openai.url,
      TURN_DETECTION: 'server_vad',
      // Two operators listen below; a third is refused (429) and must be told.
      MAX_LISTENERS_PER_CALL: '2',
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    ({ page, errors } = await openPage(context));
  });

  afterAll(async () => {
    clearInterval(pump);
    call?.hangUp();
    await otherContext?.close();
    await context?.close();
    await browser?.close();
    await bridge?.close();
    await openai?.stop();
  });

  it('plays the caller in the page, sends the microphone to the caller while it holds the line, and stops at handback', async () => {
    call = await FakeTwilioCall.dial(bridge.baseUrl);
    session = await openai.connection(0);
    const tone = mulawTone(CALLER_HZ, 1000);
    let offset = 0;
    pump = setInterval(() => {
      call.sendMedia(tone.subarray(offset, offset + 160));
      offset = (offset + 160) % tone.length;
    }, 20);

    await logIn(page, bridge.baseUrl);
    await page.locator(`tr[data-call-sid="${call.callSid}"]`).click();
    await page.locator('[data-testid="call-view"]').waitFor();

    // Listen: the caller's tone reaches the page's AnalyserNode.
    await page.locator('[data-action="listen"]').click();
    const callerLevel = page.locator('[data-testid="listen-level-caller"]');
    await callerLevel.waitFor();
    let reading = { db: -100, hz: 0 };
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      reading = {
        db: Number(await callerLevel.getAttribute('data-db')),
        hz: Number(await callerLevel.getAttribute('data-peak-hz')),
      };
      if (reading.db > -30 && Math.abs(reading.hz - CALLER_HZ) < 40) break;
      await sleep(100);
    }
    expect(reading.db).toBeGreaterThan(-30);
    expect(Math.abs(reading.hz - CALLER_HZ)).toBeLessThan(40);

    // Take over: the fake microphone's tone reaches the caller, the model's does not.
    const before = call.received.length;
    await page.locator('[data-action="takeover"]').click();
    await page.locator('[data-testid="listen-panel"][data-line="me"]').waitFor();
    await waitUntil(
      () => receivedSamples(call, before).length >= 8000,
      'a second of the operator',
      10_000,
    );
    const heard = receivedSamples(call, before);
    expect(dominantFrequency(heard.subarray(-4000), 8000, 200, 3000)).toBeGreaterThan(MIC_HZ - 30);
    expect(dominantFrequency(heard.subarray(-4000), 8000, 200, 3000)).toBeLessThan(MIC_HZ + 30);
    await page.locator('[data-testid="transcript"] [data-kind="takeover"]').waitFor();
    expect(await page.locator('[data-kind="takeover"]').innerText()).toMatch(
      /console:\S+ took the line/,
    );
    await page.screenshot({ path: artifactPath('console-listen-takeover.png'), fullPage: true });

    // A second operator who starts listening now is told another operator has the line.
    otherContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page: other, errors: otherErrors } = await openPage(otherContext);
    await logIn(other, bridge.baseUrl);
    await other.locator(`tr[data-call-sid="${call.callSid}"]`).click();
    await other.locator('[data-action="listen"]').click();
    const otherPanel = other.locator('[data-testid="listen-panel"]');
    await other.locator('[data-testid="listen-panel"][data-line="other"]').waitFor();
    expect(await otherPanel.locator('[data-action="takeover"]').isDisabled()).toBe(true);
    expect(await otherPanel.locator('[data-testid="listen-status"]').innerText()).toContain(
      'Another operator has the line.',
    );

    // Hand back with a note: the microphone stops reaching the caller.
    await page
      .locator('[data-testid="handback-note"]')
      .fill('Caller calmed down; refund approved.');
    await page.locator('[data-action="handback"]').click();
    await page.locator('[data-testid="listen-panel"][data-line="assistant"]').waitFor();
    // A third listener is refused (429): the panel says so, and Take over does not go ahead.
    const third = await openPage(otherContext);
    await third.page.goto(`${bridge.baseUrl}/console`);
    await third.page.locator(`tr[data-call-sid="${call.callSid}"]`).click();
    const thirdPanel = third.page.locator('[data-testid="listen-panel"]');
    const thirdStatus = thirdPanel.locator('[data-testid="listen-status"]');
    await thirdPanel.locator('[data-action="listen"]').click();
    await thirdStatus.getByText('could not listen: the server refused').waitFor();
    expect(await thirdPanel.locator('[data-action="listen"]').innerText()).toBe('Listen');
    await thirdPanel.locator('[data-action="takeover"]').click();
    await thirdStatus.getByText('could not listen: the server refused').waitFor();
    expect(await thirdPanel.getAttribute('data-line')).toBe('assistant');
    // Chromium reports the refused handshake itself; the page threw nothing.
    expect(third.errors.filter((e) => !/WebSocket connection to .* failed/.test(e))).toEqual([]);
    await third.page.close();

    // The other operator's page follows: the assistant has the line, Take over is offered.
    await other.locator('[data-testid="listen-panel"][data-line="assistant"]').waitFor();
    expect(await otherPanel.locator('[data-action="takeover"]').isDisabled()).toBe(false);
    expect(await otherPanel.locator('[data-testid="listen-status"]').innerText()).toBe(
      'Listening. The assistant has the line.',
    );
    expect(otherErrors).toEqual([]);
    const message = await session.waitFor(
      'conversation.item.create',
      (event) => (event.item as { role?: string }).role === 'system',
    );
    expect(JSON.stringify(message.item)).toContain('Caller calmed down; refund approved.');
    await sleep(300);
    const after = call.received.length;
    await sleep(1000);
    expect(receivedSamples(call, after).length).toBe(0);
    expect(errors).toEqual([]);
  });

  it('gives the line to one of two operators pressing Take over at once, the other page saying so', async () => {
    const raced = await FakeTwilioCall.dial(bridge.baseUrl);
    const contexts: BrowserContext[] = [];
    try {
      const pages: Page[] = [];
      for (const latencyMs of [0, 300]) {
        const operatorContext = await browser.newContext({
          viewport: { width: 1280, height: 900 },
        });
        contexts.push(operatorContext);
        const { page: operator } = await openPage(operatorContext);
        if (latencyMs > 0) {
          // The second operator is far away: the server's frames reach its page late.
          await operator.routeWebSocket(/\/listen$/, (ws) => {
            const server = ws.connectToServer();
            server.onMessage((frame) => setTimeout(() => ws.send(frame), latencyMs));
            ws.onMessage((frame) => server.send(frame));
          });
        }
        await logIn(operator, bridge.baseUrl);
        await operator.locator(`tr[data-call-sid="${raced.callSid}"]`).click();
        await operator.locator('[data-action="listen"]').click();
        await operator.locator('[data-action="stop-listening"]').waitFor();
        pages.push(operator);
      }
      // The second presses 100 ms after the first: before the first's acknowledgement (which
      // names no one) reaches it, so it takes that for its own until its refusal comes.
      const first = pages[0].locator('[data-action="takeover"]').click();
      await sleep(100);
      await Promise.all([first, pages[1].locator('[data-action="takeover"]').click()]);
      await pages[0].locator('[data-testid="listen-panel"][data-line="me"]').waitFor();
      await pages[1].locator('[data-testid="listen-panel"][data-line="other"]').waitFor();
      await sleep(1000);
      const lines = await Promise.all(
        pages.map((p) => p.locator('[data-testid="listen-panel"]').getAttribute('data-line')),
      );
      expect(lines).toEqual(['me', 'other']);
    } finally {
      raced.hangUp();
      for (const operatorContext of contexts) await operatorContext.close();
    }
  });
});
