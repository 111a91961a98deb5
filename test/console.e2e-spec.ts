import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { MAX_LIVE_FOLLOWERS } from '../src/console/console.constants.js';
import { StoreHoursModule } from '../examples/store-hours.module.js';
import { mulawTone, frames20ms } from './support/audio.js';
import { artifactPath, launchChromium, openPage } from './support/browser.js';
import { startBridge, TEST_API_KEY, type RunningBridge } from './support/bridge.js';
import { FakeOpenAIRest } from './support/fake-openai-rest.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { FakeTwilioRest } from './support/fake-twilio-rest.js';
import {
  FakeTwilioCall,
  parseStreamTwiml,
  postTwiml,
  TEST_ACCOUNT_SID,
  TEST_AUTH_TOKEN,
} from './support/fake-twilio.js';
import { modelCallsTool } from './support/tool-calls.js';
import { sleep } from './support/wait.js';

/** The usage the tool responses report: the console shows its total (412). */
const TOOL_RESPONSE_USAGE = { total_tokens: 412, input_tokens: 380, output_tokens: 32 };

// The operator console in a real browser (Debian's Chromium through playwright-core) against the
// real application and the usual loopback fakes: Twilio's media stream and REST API, OpenAI's
// Realtime socket and REST API. Nothing leaves the machine.

jest.setTimeout(60_000);

const API_TOKEN = 'console-test-token-0123456789';
const PUBLIC_URL = 'https://voice.example.test';
const NUMBER_HERE = {
  sid: 'PN00000000000000000000000000000001',
  phone_number: '+15550002222',
  friendly_name: 'Main line',
  voice_url: `${PUBLIC_URL}/api/twiml`,
  voice_method: 'POST',
};
const NUMBER_ELSEWHERE = {
  sid: 'PN00000000000000000000000000000002',
  phone_number: '+15550003333',
  friendly_name: 'Sales line',
  voice_url: 'https://old-voice-app.example.com/incoming',
  voice_method: 'POST',
};

/** A number whose friendly name is long: Point here must stay on its card at 1280 px. */
const NUMBER_LONG_NAME = {
  sid: 'PN00000000000000000000000000000003',
  phone_number: '+15550004444',
  friendly_name: 'After-hours overflow line for the north-east regional support desk',
  voice_url: 'https://old-voice-app.example.com/overflow',
  voice_method: 'POST',
};

/** Every route the console's page reads or acts through (the page and its assets are public). */
const DATA_ROUTES: Array<[method: 'GET' | 'POST', path: string]> = [
  ['GET', '/console/api/me'],
  ['GET', '/console/api/checklist'],
  ['GET', '/console/api/calls'],
  ['GET', '/console/api/live'],
  ['GET', '/console/api/recent'],
  ['GET', '/console/api/profiles'],
  ['GET', '/console/api/calls/CA0123/live'],
  ['GET', '/console/api/calls/CA0123'],
  ['POST', '/console/api/calls/CA0123/hangup'],
  ['POST', '/console/api/calls/CA0123/transfer'],
  ['POST', `/console/api/numbers/${NUMBER_ELSEWHERE.sid}/point-here`],
];

/** Window widths the console's layout must hold at: a small laptop, a common one, a desktop. */
const LAYOUT_WIDTHS = [1024, 1200, 1280, 1440];

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

async function logIn(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/console`);
  await page.locator('[data-testid="token"]').fill(API_TOKEN);
  await page.locator('[data-action="login"]').click();
  await page.getByRole('heading', { name: 'Live calls' }).waitFor();
}

/** The console, logging in first unless this browser context already has a session. */
async function openConsole(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/console`);
  const token = page.locator('[data-testid="token"]');
  const heading = page.getByRole('heading', { name: 'Live calls' });
  await token.or(heading).first().waitFor();
  if (await token.isVisible()) await logIn(page, baseUrl);
}

async function loginCookie(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/console/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: API_TOKEN }),
  });
  expect(response.status).toBe(204);
  return response.headers.get('set-cookie')!;
}

describe('operator console on a configured bridge', () => {
  let bridge: RunningBridge;
  let rest: FakeTwilioRest;
  let openai: FakeRealtimeServer;
  let openaiRest: FakeOpenAIRest;
  let context: BrowserContext;

  beforeAll(async () => {
    openai = new FakeRealtimeServer();
    await openai.start();
    rest = new FakeTwilioRest();
    rest.numbers = [{ ...NUMBER_HERE }, { ...NUMBER_ELSEWHERE }, { ...NUMBER_LONG_NAME }];
    await rest.start();
    openaiRest = new FakeOpenAIRest(TEST_API_KEY);
    await openaiRest.start();
    bridge = await startBridge(
      {
        API_TOKEN,
        PUBLIC_URL,
        TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
        TWILIO_API_BASE_URL: rest.url,
        OPENAI_API_BASE_URL: openaiRest.url,
        OPENAI_REALTIME_URL: openai.url,
        AI_GREETING: "Thanks for calling Ada's Hardware, how can I help?",
        TRANSFER_NUMBER: '+15550009999',
        CALL_PROFILES: JSON.stringify({
          sales: { instructions: 'You sell things.', voice: 'marin', numbers: ['+15550003333'] },
        }),
      },
      [StoreHoursModule],
    );
    context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  });

  afterAll(async () => {
    await context?.close();
    await bridge?.close();
    await openai?.stop();
    await rest?.stop();
    await openaiRest?.stop();
  });

  it('answers 401 on every data route without a session or token', async () => {
    for (const [method, path] of DATA_ROUTES) {
      const response = await fetch(`${bridge.baseUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', cookie: 'bridge_console=forged' },
        body: method === 'POST' ? '{}' : undefined,
      });
      expect([method, path, response.status]).toEqual([method, path, 401]);
    }
  });

  it('accepts the Bearer token on data routes, so scripts can read them', async () => {
    const response = await fetch(`${bridge.baseUrl}/console/api/calls`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ calls: [] });
  });

  it('exchanges the token for an HttpOnly, SameSite=Strict session cookie that is not the token', async () => {
    const cookie = await loginCookie(bridge.baseUrl);
    expect(cookie).toMatch(/^bridge_console=[A-Za-z0-9_-]{40,};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/console');
    expect(cookie).not.toContain(API_TOKEN);
    const session = cookie.split(';')[0];
    const response = await fetch(`${bridge.baseUrl}/console/api/me`, {
      headers: { cookie: session },
    });
    expect(response.status).toBe(200);
    expect(bridge.logs.lines.join('\n')).not.toContain(API_TOKEN);

    const logout = await fetch(`${bridge.baseUrl}/console/logout`, {
      method: 'POST',
      headers: { cookie: session },
    });
    expect(logout.status).toBe(204);
    const after = await fetch(`${bridge.baseUrl}/console/api/me`, { headers: { cookie: session } });
    expect(after.status).toBe(401);
  });

  it('serves the page with a strict Content-Security-Policy and no inline script', async () => {
    const response = await fetch(`${bridge.baseUrl}/console`);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toMatch(/https?:/);
    const body = await response.text();
    expect(body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(body).not.toMatch(/\sstyle=|<style/);

    const { page } = await openPage(context);
    await page.goto(`${bridge.baseUrl}/console`);
    await page.locator('[data-testid="token"]').waitFor();
    const scripts = await page.$$eval('script', (all) =>
      all.map((s) => ({ src: s.getAttribute('src'), text: s.textContent ?? '' })),
    );
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      expect(script.src).toMatch(/^\/console\/assets\//);
      expect(script.text.trim()).toBe('');
    }
    // And the policy is in force: an injected inline script does not run.
    const ran = await page.evaluate(`(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__injected = true';
      document.body.append(script);
      return window.__injected === true;
    })()`);
    expect(ran).toBe(false);
    await page.close();
  });

  it('shows every checklist item green, with the numbers and where they point', async () => {
    const { page, errors } = await openPage(context);
    await logIn(page, bridge.baseUrl);
    for (const name of ['config', 'public-url', 'openai', 'twilio']) {
      await page.locator(`[data-check="${name}"][data-state="ok"]`).waitFor({ timeout: 10_000 });
    }
    expect(openaiRest.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: '/v1/models',
      authorization: `Bearer ${TEST_API_KEY}`,
    });
    await page.locator('[data-number="+15550002222"][data-webhook="here"]').waitFor();
    await page.locator('[data-number="+15550003333"] [data-action="point-here"]').waitFor();
    // A long friendly name is cut (whole in its title); Point here stays on its card at 1280 px.
    await page.setViewportSize({ width: 1280, height: 1000 });
    const longName = page.locator(`[data-number="${NUMBER_LONG_NAME.phone_number}"]`);
    const [item, button] = await Promise.all([
      longName.boundingBox(),
      longName.locator('[data-action="point-here"]').boundingBox(),
    ]);
    expect(button!.x).toBeGreaterThanOrEqual(item!.x);
    expect(button!.x + button!.width).toBeLessThanOrEqual(item!.x + item!.width);
    expect(await longName.locator('[title]').first().getAttribute('title')).toBe(
      NUMBER_LONG_NAME.friendly_name,
    );
    expect(await layoutProblems(page)).toEqual([]);
    await page.setViewportSize({ width: 1440, height: 1000 });
    // Profiles and tools, read-only.
    await page.getByText('sales').first().waitFor();
    await page.getByText('end_call').waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('points a number at this bridge through the Twilio API after confirmation', async () => {
    const { page, errors } = await openPage(context);
    await openConsole(page, bridge.baseUrl);
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await page.locator('[data-number="+15550003333"] [data-action="point-here"]').click();
    const update = await rest.waitForRequest(
      (r) =>
        r.method === 'POST' &&
        r.path.endsWith(`/IncomingPhoneNumbers/${NUMBER_ELSEWHERE.sid}.json`),
    );
    expect(update.form).toMatchObject({ VoiceUrl: `${PUBLIC_URL}/api/twiml`, VoiceMethod: 'POST' });
    expect(dialogs[0]).toContain('+15550003333');
    await page.locator('[data-number="+15550003333"][data-webhook="here"]').waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a call from start to record, and keeps it among recent calls', async () => {
    const { page, errors } = await openPage(context);
    await openConsole(page, bridge.baseUrl);

    // A first, short call: it ends and is listed among recent calls with its record.
    const first = await dialThroughPublicUrl(bridge.baseUrl, '+15550004444');
    const firstUpstream = await openai.connection(0);
    await page.locator(`tr[data-call-sid="${first.callSid}"]`).waitFor();
    playTurn(firstUpstream, 'caller', 'item_f1', 'Do you sell garden hoses?');
    playTurn(firstUpstream, 'assistant', 'item_f2', 'We do, in three lengths. Anything else?');
    await page.locator('[data-testid="transcript"]').getByText('We do, in three lengths').waitFor();
    first.stop();
    await page.locator(`tr[data-recent-call-sid="${first.callSid}"]`).waitFor();
    await page.locator('[data-testid="call-record"]').waitFor();

    // A second call, live: greeting, a question, a tool, the answer playing.
    const second = await dialThroughPublicUrl(bridge.baseUrl, '+15550005555');
    const upstream = await openai.connection(1);
    const row = page.locator(`tr[data-call-sid="${second.callSid}"]`);
    await row.waitFor();
    await page.locator(`[data-view-call-sid="${second.callSid}"]`).waitFor();
    upstream.audioDelta('resp_g', 'item_g', mulawTone(320, 600, 7000));
    playTurn(upstream, 'assistant', 'item_g', "Thanks for calling Ada's Hardware, how can I help?");
    const speaking = (async () => {
      for (const frame of frames20ms(mulawTone(440, 2500, 10000))) {
        second.sendMedia(frame);
        await sleep(20);
      }
    })();
    playTurn(upstream, 'caller', 'item_q', 'Are you open this Saturday, and until when?');
    upstream.send({
      type: 'input_audio_buffer.speech_stopped',
      audio_end_ms: 2400,
      item_id: 'item_q',
    });
    await sleep(250);
    modelCallsTool(
      upstream,
      'resp_t',
      'call_hours',
      'get_store_hours',
      { day: 'saturday' },
      TOOL_RESPONSE_USAGE,
    ).done();
    await page.locator('[data-tool="get_store_hours"]').waitFor();
    upstream.audioDelta('resp_a', 'item_a', mulawTone(280, 4000, 9000));
    playTurn(upstream, 'assistant', 'item_a', 'Yes, on Saturday we are open from ten until four.');
    await waitForMeter(page, 'caller', -30);
    await waitForMeter(page, 'assistant', -30);
    await page.locator('[data-testid="transcript"]').getByText('from ten until four').waitFor();
    await page.screenshot({ path: artifactPath('console-overview.png'), fullPage: true });

    // This page is at the loopback address, not PUBLIC_URL's: the listen socket would be refused
    // (403, which a browser cannot read), so the panel says why, and Take over goes no further.
    const panel = page.locator('[data-testid="listen-panel"]');
    const status = panel.locator('[data-testid="listen-status"]');
    await panel.locator('[data-action="listen"]').click();
    await expectText(status, /could not listen: this page is at http:\/\/127\.0\.0\.1/);
    expect(await status.innerText()).toContain(`${PUBLIC_URL} (PUBLIC_URL)`);
    await panel.locator('[data-action="takeover"]').click();
    await expectText(status, /could not listen/);
    expect(await panel.getAttribute('data-line')).toBe('assistant');
    expect(await panel.locator('[data-action="listen"]').innerText()).toBe('Listen');
    await speaking;
    second.stop();
    await row.waitFor({ state: 'detached' });
    expect(errors).toEqual([]);
    await page.close();
  });

  it(`keeps at most ${MAX_LIVE_FOLLOWERS} live streams open, and takes new ones once some close`, async () => {
    const live = (signal: AbortSignal) =>
      fetch(`${bridge.baseUrl}/console/api/live`, {
        headers: { authorization: `Bearer ${API_TOKEN}` },
        signal,
      });
    const streams: AbortController[] = [];
    let refused: Response | undefined;
    try {
      while (streams.length <= MAX_LIVE_FOLLOWERS && !refused) {
        const controller = new AbortController();
        const response = await live(controller.signal);
        if (response.status === 503) refused = response;
        else {
          streams.push(controller);
          // Read, and so held: fetch cancels a response body the garbage collector finds
          // unreferenced, which would close that stream and free its place mid-count.
          void response.body?.pipeTo(new WritableStream()).catch(() => undefined);
        }
      }
      expect(refused?.status).toBe(503);
      expect(streams.length).toBeLessThanOrEqual(MAX_LIVE_FOLLOWERS);
    } finally {
      for (const stream of streams) stream.abort();
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      const controller = new AbortController();
      const response = await live(controller.signal);
      controller.abort();
      if (response.status === 200) break;
      if (Date.now() > deadline)
        throw new Error(`still ${response.status} after the streams closed`);
      await sleep(50);
    }
  });

  it('throttles repeated wrong tokens, and still takes the right one', async () => {
    const attempt = (token: string) =>
      fetch(`${bridge.baseUrl}/console/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      });
    for (let i = 0; i < 5; i++) expect((await attempt(`wrong-${i}`)).status).toBe(401);
    const blocked = await attempt('wrong-again');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await attempt(API_TOKEN)).status).toBe(204);
  });
});

describe('operator console on an unconfigured bridge, with live calls', () => {
  let bridge: RunningBridge;
  let rest: FakeTwilioRest;
  let openai: FakeRealtimeServer;
  let openaiRest: FakeOpenAIRest;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let call: FakeTwilioCall;
  let upstream: FakeRealtimeConnection;

  beforeAll(async () => {
    rest = new FakeTwilioRest();
    await rest.start();
    openai = new FakeRealtimeServer();
    await openai.start();
    // Knows another key only: ours is refused, as a revoked key would be.
    openaiRest = new FakeOpenAIRest('sk-some-other-key');
    await openaiRest.start();
    bridge = await startBridge(
      {
        API_TOKEN,
        OPENAI_REALTIME_URL: openai.url,
        OPENAI_API_BASE_URL: openaiRest.url,
        TWILIO_API_BASE_URL: rest.url,
        TRANSFER_ALLOWED_NUMBERS: '+15550009999,+15550008888',
        CALL_PROFILES: JSON.stringify({ support: { voice: 'marin', numbers: ['+15550002222'] } }),
      },
      [StoreHoursModule],
    );
    context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    ({ page, errors } = await openPage(context));
    page.on(
      'dialog',
      (dialog) => void dialog.accept(dialog.type() === 'prompt' ? '+15550008888' : undefined),
    );
  });

  afterAll(async () => {
    await context?.close();
    await bridge?.close();
    await openai?.stop();
    await openaiRest?.stop();
    await rest?.stop();
  });

  it('logs in with the API token', async () => {
    await logIn(page, bridge.baseUrl);
    await page.getByText('No calls right now').waitFor();
  });

  it('shows what is missing in the checklist, each with the reason and the fix', async () => {
    await page.locator('[data-check="config"][data-state="ok"]').waitFor({ timeout: 10_000 });
    for (const name of ['public-url', 'openai', 'twilio']) {
      await page.locator(`[data-check="${name}"][data-state="fail"]`).waitFor();
    }
    await expectText(page.locator('[data-check="openai"]'), /refused \(HTTP 401\)/);
    await expectText(page.locator('[data-check="public-url"]'), /Fix: set PUBLIC_URL/);
  });

  it('lists a new call within 2 s of its stream starting', async () => {
    call = await FakeTwilioCall.dial(bridge.baseUrl, { acknowledgeMarks: false });
    const started = Date.now();
    await page.locator(`tr[data-call-sid="${call.callSid}"]`).waitFor({ timeout: 2000 });
    expect(Date.now() - started).toBeLessThan(2000);
    const row = page.locator(`tr[data-call-sid="${call.callSid}"]`);
    await expectText(row, /\+15550001111/);
    await expectText(row, /\+15550002222/);
    await expectText(row, /support/);
    upstream = await openai.connection(0);
    await page.locator('[data-testid="call-view"]').waitFor();
  });

  it('streams transcript lines as they happen', async () => {
    const transcript = page.locator('[data-testid="transcript"]');
    upstream.send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_caller_1',
      content_index: 0,
      transcript: 'Hi, when are you open on Saturday?',
    });
    await transcript.getByText('Hi, when are you open on Saturday?').waitFor();
    upstream.send({
      type: 'response.output_audio_transcript.done',
      response_id: 'resp_1',
      item_id: 'item_assistant_1',
      output_index: 0,
      content_index: 0,
      transcript: 'Let me look that up for you.',
    });
    await transcript.getByText('Let me look that up for you.').waitFor();
    call.send({
      event: 'dtmf',
      streamSid: call.streamSid,
      sequenceNumber: '900',
      dtmf: { track: 'inbound_track', digit: '7' },
    });
    await expectText(transcript.locator('[data-kind="dtmf"]'), /7/);
    await expectText(transcript.locator('[data-role="caller"]'), /Caller/);
  });

  it('shows a tool call with its name, arguments and output', async () => {
    modelCallsTool(
      upstream,
      'resp_tool_1',
      'call_hours_1',
      'get_store_hours',
      { day: 'saturday' },
      TOOL_RESPONSE_USAGE,
    ).done();
    const tool = page.locator('[data-testid="transcript"] [data-tool="get_store_hours"]');
    await tool.waitFor();
    await expectText(tool.locator('[data-testid="tool-name"]'), /get_store_hours/);
    await expectText(tool.locator('[data-testid="tool-arguments"]'), /"day":\s*"saturday"/);
    await expectText(tool.locator('[data-testid="tool-output"]'), /10:00-16:00/);
  });

  it('meters the caller, and counts a barge-in when the caller talks over the assistant', async () => {
    const bargeIns = page.locator('[data-testid="barge-ins"]');
    await expectText(bargeIns, /^0$/);
    // The caller speaks (a tone at real-time pace) while the assistant's answer is playing.
    const speaking = (async () => {
      for (const frame of frames20ms(mulawTone(440, 1500, 12000))) {
        call.sendMedia(frame);
        await sleep(20);
      }
    })();
    // The caller's question ends; the answer's first audio comes some 300 ms later.
    upstream.send({
      type: 'input_audio_buffer.speech_stopped',
      audio_end_ms: 400,
      item_id: 'item_caller_q',
    });
    await sleep(300);
    upstream.audioDelta('resp_2', 'item_assistant_2', mulawTone(300, 3000, 9000));
    upstream.send({
      type: 'response.output_audio_transcript.done',
      response_id: 'resp_2',
      item_id: 'item_assistant_2',
      output_index: 0,
      content_index: 0,
      transcript: 'On Saturday we are open from ten to four, and on Sunday we are closed.',
    });
    await waitForMeter(page, 'caller', -30);
    await waitForMeter(page, 'assistant', -30);
    await expectText(page.locator('[data-testid="tokens"]'), /^412$/);
    await page.screenshot({ path: artifactPath('console-live-call.png'), fullPage: true });

    // Twilio has played what it echoed so far (this caller does not echo by itself).
    for (const mark of call.framesOf('mark')) {
      call.ackMark((mark.mark as { name: string }).name);
    }
    upstream.send({
      type: 'input_audio_buffer.speech_started',
      audio_start_ms: 900,
      item_id: 'item_caller_2',
    });
    await expectText(bargeIns, /^1$/);
    await call.waitFor('clear');
    // The answer the caller cut short is marked in the transcript, with the part they heard.
    await page
      .locator('[data-testid="transcript"] .turn.interrupted')
      .getByText('On Saturday')
      .waitFor();
    await speaking;
  });

  it.each(LAYOUT_WIDTHS)(
    'keeps its layout at %i px wide during the call: every button clickable, no panel over another',
    async (width) => {
      await page.setViewportSize({ width, height: 900 });
      try {
        await page.locator(`tr[data-call-sid="${call.callSid}"] [data-action="hangup"]`).waitFor();
        await page.locator('[data-testid="call-view"] .live-grid').waitFor();
        // Ordinary numbers show whole: only a value longer than any E.164 number is cut.
        expect(await cutFields(page.locator(`tr[data-call-sid="${call.callSid}"] bdi`))).toEqual(
          [],
        );
        await page.screenshot({
          path: artifactPath(`console-live-call-${width}.png`),
          fullPage: true,
        });
        expect(await layoutProblems(page)).toEqual([]);
      } finally {
        await page.setViewportSize({ width: 1440, height: 1000 });
      }
    },
  );

  it('hangs up from the table: Twilio gets the request and the row leaves', async () => {
    const row = page.locator(`tr[data-call-sid="${call.callSid}"]`);
    await row.locator('[data-action="hangup"]').click();
    const request = await rest.waitForRequest((r) =>
      r.path.includes(`/Calls/${call.callSid}.json`),
    );
    expect(request.form.Status).toBe('completed');
    await row.waitFor({ state: 'detached' });
    await call.waitForClose();
    // The call record shows in its view, and the call is listed among recent calls.
    await page.locator('[data-testid="call-record"]').waitFor();
    await page.locator(`tr[data-recent-call-sid="${call.callSid}"]`).waitFor();
  });

  it('transfers a call to an allowed number the operator picks', async () => {
    const second = await FakeTwilioCall.dial(bridge.baseUrl);
    const row = page.locator(`tr[data-call-sid="${second.callSid}"]`);
    await row.waitFor();
    const secondUpstream = await openai.connection(1);
    await row.locator('[data-action="transfer"]').click();
    // The handover sentence is asked for first; the <Dial> follows once it has played.
    await secondUpstream.waitFor('response.create', (e) =>
      JSON.stringify(e.response ?? {}).includes('transferring'),
    );
    const refused = await fetch(`${bridge.baseUrl}/console/api/calls/${second.callSid}/transfer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: '+15551230000' }),
    });
    expect(refused.status).toBe(400);
    second.hangUp();
    await row.waitFor({ state: 'detached' });
  });

  it('wrote no error to the page console', () => {
    expect(errors).toEqual([]);
  });
});

describe('operator console event streams', () => {
  let bridge: RunningBridge;

  beforeAll(async () => {
    bridge = await startBridge({ API_TOKEN, SSE_MAX_DURATION_S: '1' });
  });

  afterAll(async () => {
    await bridge?.close();
  });

  it('end after SSE_MAX_DURATION_S, like the call-events route (the page reconnects)', async () => {
    const started = Date.now();
    const response = await fetch(`${bridge.baseUrl}/console/api/live`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const body = await response.text();
    expect(body).toContain('event: calls\ndata: {"calls":[]}');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

describe('operator console with no transfer number configured', () => {
  let bridge: RunningBridge;
  let openai: FakeRealtimeServer;

  beforeAll(async () => {
    openai = new FakeRealtimeServer();
    await openai.start();
    bridge = await startBridge({ API_TOKEN, OPENAI_REALTIME_URL: openai.url });
  });

  afterAll(async () => {
    await bridge?.close();
    await openai?.stop();
  });

  it('refuses to transfer a live call (409), offering no number', async () => {
    const call = await FakeTwilioCall.dial(bridge.baseUrl);
    const upstream = await openai.connection(0);
    await upstream.waitFor('session.update');
    const headers = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' };
    const me = await fetch(`${bridge.baseUrl}/console/api/me`, { headers });
    expect(await me.json()).toMatchObject({ transferNumbers: [] });
    const response = await fetch(`${bridge.baseUrl}/console/api/calls/${call.callSid}/transfer`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ to: '+15550009999' }),
    });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ message: 'no transfer number configured' });
    await sleep(200);
    expect(JSON.stringify(upstream.eventsOfType('response.create'))).not.toContain('transferring');
    call.hangUp();
  });
});

describe('operator console with long and hostile calls', () => {
  let bridge: RunningBridge;
  let openai: FakeRealtimeServer;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  const calls: FakeTwilioCall[] = [];

  const api = (path: string) =>
    fetch(`${bridge.baseUrl}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  const LONG_FROM = `+1${'5'.repeat(299)}`;
  let hostile: { spoof: FakeTwilioCall; long: FakeTwilioCall } | undefined;

  /** Two callers whose From is hostile; the long one's view open on a 5000-character word. */
  async function hostileCalls(): Promise<{ spoof: FakeTwilioCall; long: FakeTwilioCall }> {
    await openConsole(page, bridge.baseUrl);
    const [spoof] = await dial('+1555\u202Egnp.exe');
    const [long, upstream] = await dial(LONG_FROM);
    upstream.send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_word',
      content_index: 0,
      transcript: 'x'.repeat(5000),
    });
    await page.locator(`tr[data-call-sid="${long.callSid}"]`).click();
    return { spoof, long };
  }

  /** A call with its model session, from `from`. */
  async function dial(from: string): Promise<[FakeTwilioCall, FakeRealtimeConnection]> {
    const call = await FakeTwilioCall.dial(bridge.baseUrl, { from });
    calls.push(call);
    const upstream = await openai.connection(openai.connections.length);
    await upstream.waitFor('session.update');
    return [call, upstream];
  }

  beforeAll(async () => {
    openai = new FakeRealtimeServer();
    await openai.start();
    bridge = await startBridge({ API_TOKEN, OPENAI_REALTIME_URL: openai.url });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    ({ page, errors } = await openPage(context));
  });

  afterAll(async () => {
    for (const call of calls) call.hangUp();
    await context?.close();
    await bridge?.close();
    await openai?.stop();
  });

  it('opens a call whose snapshot is over the event bound, from its JSON detail', async () => {
    const [call, upstream] = await dial('+15550007777');
    // 500 turns (the timeline's bound) of 1,000 characters: even cut to 64 characters a string,
    // the snapshot is over MAX_SSE_EVENT_BYTES, and the stream sends a stub without call or entries.
    const words = 'lorem ipsum dolor sit amet '.repeat(37);
    for (let i = 0; i < 500; i++) {
      upstream.send({
        type: 'conversation.item.input_audio_transcription.completed',
        item_id: `item_long_${i}`,
        content_index: 0,
        transcript: `Turn ${i}: ${words}`,
      });
    }
    for (let i = 0; i < 100; i++) {
      const detail = (await (await api(`/console/api/calls/${call.callSid}`)).json()) as {
        entries: unknown[];
      };
      if (JSON.stringify(detail.entries.at(-1)).includes('Turn 499:')) break;
      await sleep(100);
    }
    // The page opens on the call now: its first snapshot is the long one.
    await logIn(page, bridge.baseUrl);

    await page.locator(`tr[data-call-sid="${call.callSid}"]`).click();
    const view = page.locator(`[data-view-call-sid="${call.callSid}"]`);
    await view.waitFor();
    await expectText(view.locator('h2'), /\+15550007777/);
    await view.locator('[data-testid="transcript"]').getByText('Turn 499:').waitFor();
    expect(await view.locator('[data-testid="transcript"] [data-kind="turn"]').count()).toBe(500);
    // Listen opens this call's socket (it opened /calls/undefined/listen from the stub).
    const socket = page.waitForEvent('websocket');
    await view.locator('[data-action="listen"]').click();
    expect((await socket).url()).toMatch(new RegExp(`/console/api/calls/${call.callSid}/listen$`));
    await view.locator('[data-action="stop-listening"]').click();
    // New entries still arrive on the stream after the detail was fetched.
    upstream.send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_long_after',
      content_index: 0,
      transcript: 'One more thing after all that.',
    });
    await view.locator('[data-testid="transcript"]').getByText('One more thing').waitFor();
    expect(errors).toEqual([]);
  });

  it('reads the detail from the JSON route when the stream sends a truncated snapshot stub', async () => {
    const [call] = await dial('+15550006666');
    // Whatever the server does with a long snapshot, a stub must not reach the page's state.
    await page.route(`**/console/api/calls/${call.callSid}/live`, (route) =>
      route.fulfill({
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
        body: `event: snapshot\ndata: ${JSON.stringify({ truncated: true, bytes: 99_999 })}\n\n`,
      }),
    );
    try {
      await page.locator(`tr[data-call-sid="${call.callSid}"]`).click();
      const view = page.locator(`[data-view-call-sid="${call.callSid}"]`);
      await view.waitFor();
      await expectText(view.locator('h2'), /\+15550006666/);
      expect(await view.locator('h2').innerText()).not.toContain('Unknown caller');
    } finally {
      await page.unroute(`**/console/api/calls/${call.callSid}/live`);
    }
    expect(errors).toEqual([]);
  });

  it.each(LAYOUT_WIDTHS)(
    'holds its layout at %i px with a bidi-spoofing From, a 300-digit From and a 5000-character word',
    async (width) => {
      if (!hostile) hostile = await hostileCalls();
      const { spoof, long } = hostile;
      await page.setViewportSize({ width, height: 900 });
      try {
        await page.screenshot({
          path: artifactPath(`console-hostile-${width}.png`),
          fullPage: true,
        });
        // The override is shown as a mark, not obeyed ("+1555exe.png"), and isolated.
        const spoofCell = page.locator(`tr[data-call-sid="${spoof.callSid}"] td`).first();
        expect(await spoofCell.innerText()).toBe('+1555⟨U+202E⟩gnp.exe');
        expect(await spoofCell.locator('bdi').count()).toBe(1);
        // The long number is cut, whole in its title; the row's buttons stay in the table's view.
        const longRow = page.locator(`tr[data-call-sid="${long.callSid}"]`);
        expect(await longRow.locator('td bdi').first().getAttribute('title')).toBe(LONG_FROM);
        const wrap = await page.locator('table.calls').evaluate((table) => {
          const el = table.parentElement as unknown as { scrollWidth: number; clientWidth: number };
          return { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth };
        });
        expect(wrap.scrollWidth).toBeLessThanOrEqual(wrap.clientWidth);
        expect(await cutFields(longRow.locator('bdi'))).toEqual([LONG_FROM]);
        for (const action of ['hangup', 'transfer']) {
          const box = (await longRow.locator(`[data-action="${action}"]`).boundingBox())!;
          expect(box.x).toBeGreaterThanOrEqual(0);
          expect(box.x + box.width).toBeLessThanOrEqual(width);
        }
        // The long call's view: its heading and the 5000-character word stay on the card.
        const view = page.locator(`[data-view-call-sid="${long.callSid}"]`);
        await view.getByText('x'.repeat(50)).waitFor();
        expect(await layoutProblems(page)).toEqual([]);
        const [card, bubble] = await Promise.all([
          view.boundingBox(),
          view.locator('.bubble').last().boundingBox(),
        ]);
        expect(bubble!.x + bubble!.width).toBeLessThanOrEqual(card!.x + card!.width);
      } finally {
        await page.setViewportSize({ width: 1280, height: 900 });
      }
      expect(errors).toEqual([]);
    },
  );

  it('opens a live call from the keyboard, and its view closes from a labelled button', async () => {
    if (!hostile) hostile = await hostileCalls();
    const { spoof } = hostile;
    await page.locator(`tr[data-call-sid="${spoof.callSid}"] [data-action="open-call"]`).focus();
    await page.keyboard.press('Enter');
    const view = page.locator(`[data-view-call-sid="${spoof.callSid}"]`);
    await view.waitFor();
    await view.getByRole('button', { name: 'Close call view' }).press('Enter');
    // Closed: the page goes back to following the newest live call (the long one).
    await view.waitFor({ state: 'detached' });
    // A recent call's row opens the same way.
    spoof.hangUp();
    const recent = page.locator(`tr[data-recent-call-sid="${spoof.callSid}"]`);
    await recent.locator('[data-action="open-recent"]').focus();
    await page.keyboard.press('Enter');
    await page.locator(`[data-view-call-sid="${spoof.callSid}"]`).waitFor();
    expect(errors).toEqual([]);
  });
});

describe('operator console without API_TOKEN', () => {
  let bridge: RunningBridge;

  beforeAll(async () => {
    bridge = await startBridge({});
  });

  afterAll(async () => {
    await bridge?.close();
  });

  it('does not exist', async () => {
    for (const path of ['/console', '/console/assets/app.js', '/console/api/calls']) {
      expect((await fetch(`${bridge.baseUrl}${path}`)).status).toBe(404);
    }
    const login = await fetch(`${bridge.baseUrl}/console/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'anything' }),
    });
    expect(login.status).toBe(404);
  });
});

/**
 * Twilio's side of a call to a bridge whose PUBLIC_URL is not this loopback address: the webhook
 * is signed for the public URL, and the stream reaches the same bridge on loopback (an unsigned
 * upgrade is allowed; the stream token from the TwiML authenticates the stream).
 */
async function dialThroughPublicUrl(baseUrl: string, from: string): Promise<FakeTwilioCall> {
  const callSid = `CA${randomBytes(16).toString('hex')}`;
  const fields = {
    CallSid: callSid,
    From: from,
    To: '+15550002222',
    AccountSid: TEST_ACCOUNT_SID,
    Direction: 'inbound',
  };
  const signature = twilio.getExpectedTwilioSignature(
    TEST_AUTH_TOKEN,
    `${PUBLIC_URL}/api/twiml`,
    fields,
  );
  const response = await postTwiml(baseUrl, fields, { signature });
  expect(response.status).toBe(200);
  const stream = parseStreamTwiml(await response.text());
  expect(stream.url).toBe('wss://voice.example.test/media-stream');
  const call = await FakeTwilioCall.open(
    { ...stream, url: `${baseUrl.replace(/^http/, 'ws')}/media-stream` },
    { callSid, signature: null },
  );
  call.start();
  return call;
}

/** A final transcript of one side, as OpenAI sends it. */
function playTurn(
  upstream: FakeRealtimeConnection,
  role: 'caller' | 'assistant',
  itemId: string,
  text: string,
): void {
  // An assistant item's audio ends before its transcript does, as with OpenAI; the bridge shows
  // an assistant turn once the caller has heard it (or cut it short).
  if (role === 'assistant') {
    upstream.send({
      type: 'response.output_audio.done',
      response_id: `resp_${itemId}`,
      item_id: itemId,
      output_index: 0,
      content_index: 0,
    });
  }
  upstream.send(
    role === 'caller'
      ? {
          type: 'conversation.item.input_audio_transcription.completed',
          item_id: itemId,
          content_index: 0,
          transcript: text,
        }
      : {
          type: 'response.output_audio_transcript.done',
          response_id: `resp_${itemId}`,
          item_id: itemId,
          output_index: 0,
          content_index: 0,
          transcript: text,
        },
  );
}

/** The titles of the values among these that are drawn cut (an ellipsis), in order. */
async function cutFields(fields: Locator): Promise<string[]> {
  const cut: string[] = [];
  for (const field of await fields.all()) {
    const { scrollWidth, clientWidth } = await field.evaluate((el) => ({
      scrollWidth: el.scrollWidth,
      clientWidth: el.clientWidth,
    }));
    if (scrollWidth > clientWidth) cut.push((await field.getAttribute('title')) ?? '');
  }
  return cut;
}

/**
 * What is wrong with the page's layout as drawn now, one line per problem: a panel (the top bar, a
 * card) overlapping another or with content spilling out of it, a page wider than the window, or a
 * button not fully visible and clickable once scrolled into view (a table may scroll inside its
 * own panel, so a button is scrolled into view there too).
 */
function layoutProblems(page: Page): Promise<string[]> {
  // A string, as the CSP check above does: this project's TypeScript has no DOM types.
  return page.evaluate(`(() => {
    const problems = [];
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth) {
      problems.push('page is ' + root.scrollWidth + ' px wide in a ' + root.clientWidth + ' px window');
    }
    const name = (el) =>
      el.getAttribute('data-action') ??
      el.getAttribute('data-testid') ??
      (el.querySelector('h2')?.textContent ?? el.textContent ?? '').trim().slice(0, 30);
    const panels = [...document.querySelectorAll('.topbar, .card')];
    panels.forEach((panel, i) => {
      if (panel.scrollWidth > panel.clientWidth) {
        problems.push('panel "' + name(panel) + '": content ' + panel.scrollWidth + ' px wide in ' + panel.clientWidth + ' px');
      }
      const a = panel.getBoundingClientRect();
      for (const other of panels.slice(i + 1)) {
        if (panel.contains(other) || other.contains(panel)) continue;
        const b = other.getBoundingClientRect();
        const overlapX = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const overlapY = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (overlapX > 0 && overlapY > 0) {
          problems.push('panels "' + name(panel) + '" and "' + name(other) + '" overlap');
        }
      }
    });
    for (const button of document.querySelectorAll('button')) {
      if (button.getClientRects().length === 0) continue;
      button.scrollIntoView({ block: 'center', inline: 'center' });
      const r = button.getBoundingClientRect();
      // Fully inside the window, and inside every ancestor that clips it (a scrolling table).
      const clips = [{ left: 0, right: root.clientWidth, top: 0, bottom: root.clientHeight }];
      for (let el = button.parentElement; el && el !== root; el = el.parentElement) {
        if (getComputedStyle(el).overflowX !== 'visible') clips.push(el.getBoundingClientRect());
      }
      const cut = clips.some(
        (c) => r.left < c.left - 0.5 || r.right > c.right + 0.5 || r.top < c.top - 0.5 || r.bottom > c.bottom + 0.5,
      );
      if (cut) {
        problems.push('button "' + name(button) + '" is cut: ' + Math.round(r.left) + '..' + Math.round(r.right) + ' px');
      }
      // Its centre, and just inside its left and right edges, show the button: nothing over it.
      const y = r.top + r.height / 2;
      const points = { centre: r.left + r.width / 2, 'left edge': r.left + 3, 'right edge': r.right - 3 };
      for (const [where, x] of Object.entries(points)) {
        const hit = document.elementFromPoint(x, y);
        if (!hit || !button.contains(hit)) {
          const shown = hit ? hit.tagName.toLowerCase() + '.' + hit.className : 'nothing';
          problems.push('button "' + name(button) + '": its ' + where + ' shows ' + shown);
        }
      }
    }
    window.scrollTo(0, 0);
    return problems;
  })()`);
}

async function expectText(locator: ReturnType<Page['locator']>, pattern: RegExp): Promise<void> {
  await locator.filter({ hasText: pattern }).first().waitFor({ timeout: 10_000 });
}

async function waitForMeter(
  page: Page,
  side: 'caller' | 'assistant',
  aboveDb: number,
): Promise<void> {
  // Polled from here: a predicate run in the page would need `eval`, which the console's CSP
  // (rightly) forbids.
  const meter = page.locator(`[data-testid="meter-${side}"]`);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const db = Number((await meter.getAttribute('data-db')) ?? -999);
    if (db > aboveDb) return;
    if (Date.now() > deadline) throw new Error(`the ${side} meter stayed at ${db} dB`);
    await sleep(100);
  }
}
