import { mulawTone, frames20ms } from './support/audio.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioCall } from './support/fake-twilio.js';
import { sleep, waitUntil } from './support/wait.js';

/** The value of one sample line of a Prometheus exposition (`name{labels} value`). */
function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('observability', () => {
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge;

  beforeEach(async () => {
    openai = new FakeRealtimeServer();
    await openai.start();
  });

  afterEach(async () => {
    await bridge?.close();
    await openai.stop();
  });

  it('moves the counters and histograms as a scripted call goes', async () => {
    bridge = await startBridge({
      OPENAI_REALTIME_URL: openai.url,
      AUDIO_INPUT_FORMAT: 'g711_ulaw',
    });
    // Twilio plays in real time, and answers the clear by echoing the marks it flushed.
    const call = await FakeTwilioCall.dial(bridge.baseUrl, { playInRealTime: true });
    const upstream = await openai.connection(0);
    await upstream.waitFor('session.update');
    for (const frame of frames20ms(mulawTone(440, 200))) call.sendMedia(frame);
    await waitUntil(
      () => upstream.eventsOfType('input_audio_buffer.append').length === 10,
      'ten frames upstream',
    );

    upstream.send({
      type: 'input_audio_buffer.speech_stopped',
      audio_end_ms: 200,
      item_id: 'item_u',
    });
    await sleep(30);
    for (let i = 0; i < 5; i++) upstream.audioDelta('resp_1', 'item_1', mulawTone(300, 40));
    await waitUntil(() => call.framesOf('media').length === 5, 'five frames to the caller');
    upstream.send({
      type: 'input_audio_buffer.speech_started',
      audio_start_ms: 300,
      item_id: 'item_u2',
    });
    await call.waitFor('clear');
    upstream.send({
      type: 'error',
      error: { type: 'invalid_request_error', code: 'some_client_error', message: 'x' },
    });
    upstream.send({
      type: 'response.done',
      response: {
        id: 'resp_1',
        status: 'cancelled',
        output: [],
        usage: { total_tokens: 90, input_tokens: 60, output_tokens: 30 },
      },
    });
    await sleep(50);

    const during = await (await fetch(`${bridge.baseUrl}/metrics`)).text();
    expect(sample(during, 'bridge_active_calls')).toBe(1);
    expect(sample(during, 'bridge_frames_total{direction="in"}')).toBe(10);

    call.stop();
    await waitUntil(() => bridge.logs.matching(/call ended/).length === 1, 'call ended');
    const response = await fetch(`${bridge.baseUrl}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const after = await response.text();
    expect(sample(after, 'bridge_active_calls')).toBe(0);
    expect(sample(after, 'bridge_calls_total{outcome="completed"}')).toBe(1);
    expect(sample(after, 'bridge_frames_total{direction="in"}')).toBe(10);
    expect(sample(after, 'bridge_frames_total{direction="out"}')).toBe(5);
    expect(sample(after, 'bridge_barge_ins_total')).toBe(1);
    expect(sample(after, 'bridge_openai_errors_total{code="some_client_error"}')).toBe(1);
    expect(sample(after, 'bridge_openai_tokens_total{type="input"}')).toBe(60);
    expect(sample(after, 'bridge_openai_tokens_total{type="output"}')).toBe(30);
    expect(sample(after, 'bridge_first_audio_seconds_count')).toBe(1);
    expect(sample(after, 'bridge_response_latency_seconds_count')).toBe(1);
    expect(sample(after, 'bridge_response_latency_seconds_sum')).toBeGreaterThanOrEqual(0.02);
    expect(sample(after, 'bridge_barge_in_reaction_seconds_count')).toBe(1);

    const record = bridge.logs.matching(/call ended/)[0];
    expect(record).toMatch(
      /turns 0\/0, first audio \d+ ms, response avg \d+ ms, barge-in reaction avg [\d.]+ ms, tokens 90/,
    );
  });

  it('asks for METRICS_TOKEN when one is set', async () => {
    bridge = await startBridge({ OPENAI_REALTIME_URL: openai.url, METRICS_TOKEN: 'scrape-me' });
    expect((await fetch(`${bridge.baseUrl}/metrics`)).status).toBe(401);
    const ok = await fetch(`${bridge.baseUrl}/metrics`, {
      headers: { authorization: 'Bearer scrape-me' },
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('bridge_calls_total');
  });

  it('is not ready after OpenAI refused the key, and ready again once a connection succeeds', async () => {
    bridge = await startBridge({ OPENAI_REALTIME_URL: openai.url });
    expect((await fetch(`${bridge.baseUrl}/health/ready`)).status).toBe(200);
    openai.rejectWithStatus = 401;
    const refused = await FakeTwilioCall.dial(bridge.baseUrl);
    await refused.waitForClose();
    const notReady = await fetch(`${bridge.baseUrl}/health/ready`);
    expect(notReady.status).toBe(503);
    expect(JSON.stringify(await notReady.json())).toContain('API key rejected (HTTP 401)');
    expect((await fetch(`${bridge.baseUrl}/health`)).status).toBe(200);

    openai.rejectWithStatus = undefined;
    await FakeTwilioCall.dial(bridge.baseUrl);
    await (await openai.connection(0)).waitFor('session.update');
    expect((await fetch(`${bridge.baseUrl}/health/ready`)).status).toBe(200);
  });

  it('serves the OpenAPI document at /docs when API_DOCS=true', async () => {
    bridge = await startBridge({ OPENAI_REALTIME_URL: openai.url, API_DOCS: 'true' });
    const spec = (await (await fetch(`${bridge.baseUrl}/docs-json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/api/calls', '/api/calls/{callSid}/hangup']),
    );
  });
});
