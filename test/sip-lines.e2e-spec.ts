import { startBridge, type RunningBridge } from './support/bridge.js';
import { CallEventLogModule, seenCallEvents } from './support/call-event-log.js';
import { FakeOpenAICalls } from './support/fake-openai-calls.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { TEST_API_TOKEN } from './support/secrets.js';
import { incomingCall, postSignedWebhook } from './support/sip-webhooks.js';
import { sleep, waitUntil } from './support/wait.js';

// SIP calls whose line must not be left up at OpenAI with nobody running the call (no tools, no
// time limit, no transcript): an accept that may have landed although it failed, a fallback
// transfer that failed, a hang-up through the API while the accept was on its way; and a transfer
// asked for then, refused (409) rather than sent.

const SECRET = `whsec_${Buffer.from('sip lines e2e webhook key').toString('base64')}`;
const NUMBERS = { from: '+15550001111', to: '+15550002222' };

describe('SIP lines', () => {
  let calls: FakeOpenAICalls;
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge | undefined;

  const start = async (env: Record<string, string> = {}) => {
    bridge = await startBridge(
      {
        OPENAI_WEBHOOK_SECRET: SECRET,
        OPENAI_API_BASE_URL: calls.url,
        OPENAI_REALTIME_URL: openai.url,
        API_TOKEN: TEST_API_TOKEN,
        ...env,
      },
      [CallEventLogModule],
    );
  };

  /** An incoming call's webhook, signed with standardwebhooks' own helper. */
  const ring = async (callId: string) => {
    const response = await postSignedWebhook(
      bridge!.baseUrl,
      SECRET,
      incomingCall(callId, NUMBERS),
    );
    expect(response.status).toBe(200);
  };

  const ended = (callId: string) =>
    seenCallEvents.find((event) => event.event === 'call.ended' && event.callSid === callId);

  beforeEach(async () => {
    seenCallEvents.length = 0;
    calls = new FakeOpenAICalls();
    openai = new FakeRealtimeServer();
    await Promise.all([calls.start(), openai.start()]);
  });

  afterEach(async () => {
    await bridge?.close();
    bridge = undefined;
    await Promise.all([calls.stop(), openai.stop()]);
  });

  it('hangs up after an accept that failed on OpenAI’s side (it may have answered the call)', async () => {
    await start();
    calls.statusFor.accept = 500;
    await ring('rtc_lines_5xx');
    await calls.waitFor('hangup', 'rtc_lines_5xx');
    expect(ended('rtc_lines_5xx')).toMatchObject({ outcome: 'failed' });
    expect(calls.of('accept', 'rtc_lines_5xx')).toHaveLength(1);
  });

  it('takes OpenAI not knowing the call (404) as the line being down', async () => {
    await start();
    calls.statusFor.accept = 503;
    calls.statusFor.hangup = 404;
    await ring('rtc_lines_never');
    await calls.waitFor('hangup', 'rtc_lines_never');
    await sleep(200);
    expect(calls.of('hangup', 'rtc_lines_never')).toHaveLength(1);
    expect(bridge!.logs.lines.join('\n')).not.toContain(
      'hangup through the OpenAI calls API failed',
    );
  });

  it('hangs up after an accept that got no answer in time, and says so', async () => {
    await start();
    calls.delayMsFor.accept = 5600;
    await ring('rtc_lines_slow');
    // The accept gives up after CALLS_API_TIMEOUT_MS (5 s).
    const hungUp = () => calls.of('hangup', 'rtc_lines_slow').length > 0;
    await waitUntil(hungUp, 'the hang-up', 10_000);
    expect(ended('rtc_lines_slow')).toMatchObject({
      outcome: 'failed',
      reason: expect.stringContaining('no answer within 5000 ms') as unknown,
    });
    expect(openai.connections).toHaveLength(0);
  }, 20_000);

  it('sends nothing more after an accept OpenAI refused', async () => {
    await start();
    calls.statusFor.accept = 404;
    await ring('rtc_lines_gone');
    await waitUntil(() => ended('rtc_lines_gone') !== undefined, 'the call to end');
    await sleep(300);
    expect(calls.requests.map((request) => request.action)).toEqual(['accept']);
  });

  it('hangs up after a FALLBACK_DIAL transfer that failed', async () => {
    await start({ FALLBACK_DIAL: '+15559990000' });
    calls.statusFor.refer = 500;
    await ring('rtc_lines_fallback');
    await calls.waitFor('accept', 'rtc_lines_fallback');
    await waitUntil(() => openai.connections.length > 0, 'the sideband');
    // The sideband is lost for good: the call falls back to FALLBACK_DIAL.
    openai.rejectWithStatus = 503;
    openai.connections[0].socket.terminate();
    await calls.waitFor('refer', 'rtc_lines_fallback');
    await calls.waitFor('hangup', 'rtc_lines_fallback');
  }, 20_000);

  it('hangs up the line an accept opens after a hang-up through the API while it was on its way', async () => {
    await start();
    calls.delayMsFor.accept = 1500;
    await ring('rtc_lines_race');
    await waitUntil(() => calls.of('accept').length === 1, 'the accept to be sent');
    const hungUp = await fetch(`${bridge!.baseUrl}/api/calls/rtc_lines_race/hangup`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });
    expect(hungUp.status).toBe(200);
    await waitUntil(() => calls.of('accept')[0]?.answered === true, 'the accept answered', 4000);
    await calls.waitFor('hangup', 'rtc_lines_race');
    // Sent once the accept had opened the line, not before.
    const [hangup] = calls.of('hangup', 'rtc_lines_race');
    expect(calls.requests.indexOf(hangup)).toBeGreaterThan(
      calls.requests.indexOf(calls.of('accept')[0]),
    );
  }, 20_000);

  it('answers 409 to a transfer through the API while the accept is on its way, and sends no REFER', async () => {
    await start({ TRANSFER_NUMBER: '+15559990001' });
    calls.delayMsFor.accept = 1500;
    await ring('rtc_lines_early_transfer');
    await waitUntil(() => calls.of('accept').length === 1, 'the accept to be sent');
    const transfer = await fetch(`${bridge!.baseUrl}/api/calls/rtc_lines_early_transfer/transfer`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_API_TOKEN}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ to: '+15559990001' }),
    });
    expect(transfer.status).toBe(409);
    expect(await transfer.json()).toMatchObject({
      error: 'refused',
      message: 'the call is not answered yet: try again',
    });
    await waitUntil(() => calls.of('accept')[0]?.answered === true, 'the accept answered', 4000);
    await sleep(200);
    expect(calls.of('refer')).toHaveLength(0);
  }, 20_000);
});
