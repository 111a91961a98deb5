import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { responseDone } from '../src/testing/realtime-protocol.js';
import { dominantFrequency, frames20ms, mulawTone } from './support/audio.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioCall, TEST_AUTH_TOKEN } from './support/fake-twilio.js';
import { TEST_API_TOKEN } from './support/secrets.js';
import { ServiceProcess } from './support/service-process.js';
import { callerClock, holdInbound, jitterInbound } from './support/twilio-inbound.js';
import { sleep, waitUntil } from './support/wait.js';
import { loudSpan, parseWav, silentStretches } from './support/wav-file.js';

// Where the assistant lands in a recording when Twilio's messages to the bridge (caller frames
// and mark echoes, one ordered socket) stall or jitter, on the built service, against the fake
// Twilio's real-time playback: Twilio plays a run of queued audio without a break, so the
// recording must too, and the caller's frames held back with the echoes must all be kept. And
// at a call's edges: the goodbye said at MAX_CALL_DURATION_S is in the file, and a caller turn's
// atMs (where the console's History view seeks) is where the caller's words are.

const SILENCE = Buffer.alloc(160, 0xff);
const CALLER_HZ = 440;
const ASSISTANT_HZ = 1000;
/** The alignment recordings promise (test/recordings.e2e-spec.ts). */
const TOLERANCE_MS = 40;
const auth = { authorization: `Bearer ${TEST_API_TOKEN}` };

describe('recording timing under inbound stalls and jitter, and at a call’s edges (the built service)', () => {
  let openai: FakeRealtimeServer;
  let service: ServiceProcess | undefined;
  let dir: string;

  beforeEach(async () => {
    openai = new FakeRealtimeServer();
    await openai.start();
    dir = await mkdtemp(join(tmpdir(), 'recording-timing-'));
  });

  afterEach(async () => {
    await service?.kill();
    service = undefined;
    await openai.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (env: Record<string, string> = {}) =>
    (service = await ServiceProcess.start({
      OPENAI_API_KEY: 'sk-test-recordings',
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      OPENAI_REALTIME_URL: openai.url,
      AUDIO_INPUT_FORMAT: 'g711_ulaw',
      API_TOKEN: TEST_API_TOKEN,
      SHUTDOWN_DRAIN_S: '1',
      RECORDING: 'on',
      RECORDINGS_DIR: join(dir, 'recordings'),
      ...env,
    }));

  async function fetchRecording(callSid: string) {
    // Polled: the recording is served once its call has ended and it is stored.
    let response: Response | undefined;
    for (let attempt = 0; attempt < 150; attempt++) {
      response = await fetch(`${service!.baseUrl}/api/history/${callSid}/recording`, {
        headers: auth,
      });
      if (response.status === 200) break;
      await response.arrayBuffer();
      await sleep(100);
    }
    expect(response!.status).toBe(200);
    return parseWav(Buffer.from(await response!.arrayBuffer()));
  }

  async function dial() {
    await start();
    const call = await FakeTwilioCall.dial(service!.baseUrl, { playInRealTime: true });
    const upstream = await openai.connection(0);
    await upstream.waitFor('session.update');
    return { call, upstream };
  }

  /** The model bursts `ms` of the assistant's tone in 200 ms deltas, all at once. */
  function modelAnswers(
    upstream: Awaited<ReturnType<FakeRealtimeServer['connection']>>,
    ms: number,
  ): void {
    const reply = mulawTone(ASSISTANT_HZ, ms);
    for (let offset = 0; offset < reply.length; offset += 1600) {
      upstream.audioDelta('resp_1', 'item_1', reply.subarray(offset, offset + 1600));
    }
  }

  it('places the whole answer where the caller heard it, without a hole, across a 1.5 s stall of frames and echoes', async () => {
    const { call, upstream } = await dial();
    const inbound = holdInbound(call);
    const clock = callerClock(call, () => SILENCE);
    await sleep(500);
    modelAnswers(upstream, 4000);
    await waitUntil(() => (call.playback?.playedMs() ?? 0) >= 1000, 'the caller to hear 1 s');
    inbound.hold();
    await sleep(1500);
    inbound.release();
    await waitUntil(() => !call.playback!.playing, 'the answer played out', 10_000);
    await sleep(300);
    clock.stop();
    call.stop();
    call.hangUp();
    // Twilio played the 4 s answer without a break from here (on the caller's clock).
    const heardFromMs = call.playback!.runStartedAt - clock.t0;

    const wav = await fetchRecording(call.callSid);
    const assistant = loudSpan(wav.right)!;
    expect(Math.abs(assistant.first / 8 - heardFromMs)).toBeLessThanOrEqual(TOLERANCE_MS);
    expect(Math.abs(assistant.last / 8 - (heardFromMs + 4000))).toBeLessThanOrEqual(TOLERANCE_MS);
    // Before the fix: ~1.3 s of silence from ~1.5 s on, what played in the stall piled up after it.
    expect(silentStretches(wav.right, assistant.first, assistant.last, TOLERANCE_MS)).toEqual([]);
  }, 30_000);

  it('records a continuous answer, ending where it ended, when frames and echoes jitter by 0-30 ms', async () => {
    const { call, upstream } = await dial();
    jitterInbound(call, 30);
    const clock = callerClock(call, () => SILENCE);
    await sleep(500);
    modelAnswers(upstream, 4000);
    await sleep(500);
    await waitUntil(() => !call.playback!.playing, 'the answer played out', 10_000);
    await sleep(300);
    clock.stop();
    call.stop();
    await sleep(100);
    call.hangUp();
    const heardFromMs = call.playback!.runStartedAt - clock.t0;

    const wav = await fetchRecording(call.callSid);
    const assistant = loudSpan(wav.right)!;
    expect(Math.abs(assistant.first / 8 - heardFromMs)).toBeLessThanOrEqual(TOLERANCE_MS);
    expect(Math.abs(assistant.last / 8 - (heardFromMs + 4000))).toBeLessThanOrEqual(TOLERANCE_MS);
    // Twilio played the 4 s back to back: any silence of 8 ms or more inside it is a dropout
    // (before the fix, several of 13-29 ms: a piece dated late, over the start of the next).
    expect(silentStretches(wav.right, assistant.first, assistant.last, 8)).toEqual([]);
  }, 30_000);

  it('keeps every caller frame a 4 s stall held back while the assistant spoke', async () => {
    const { call, upstream } = await dial();
    const inbound = holdInbound(call);
    // The caller speaks (a steady tone) for the whole call.
    const voice = frames20ms(mulawTone(CALLER_HZ, 20_000));
    const clock = callerClock(call, (k) => voice[k] ?? SILENCE);
    await sleep(500);
    modelAnswers(upstream, 16_000);
    // Well into the call (the recording has written some of it), then the stall.
    await waitUntil(() => (call.playback?.playedMs() ?? 0) >= 8000, 'heard 8 s', 12_000);
    inbound.hold();
    await sleep(4000);
    inbound.release();
    await sleep(2000);
    clock.stop();
    call.stop();
    call.hangUp();

    const wav = await fetchRecording(call.callSid);
    // The model got every frame (the rate limiter lets a stall's frames catch up) ...
    expect(upstream.appendedAudio().length).toBeGreaterThanOrEqual(wav.left.length - 8 * 100);
    const caller = loudSpan(wav.left)!;
    expect(caller.first / 8).toBeLessThanOrEqual(TOLERANCE_MS);
    // ... and so does the recording (before the fix: ~780 ms of it dropped as late).
    expect(silentStretches(wav.left, caller.first, caller.last, TOLERANCE_MS)).toEqual([]);
    expect(service!.logs).not.toMatch(/samples outside the reorder window/);
  }, 40_000);

  it('records the goodbye the caller hears when the call reaches MAX_CALL_DURATION_S', async () => {
    await start({ MAX_CALL_DURATION_S: '2' });
    const call = await FakeTwilioCall.dial(service!.baseUrl, { playInRealTime: true });
    const upstream = await openai.connection(0);
    await upstream.waitFor('session.update');
    const voice = frames20ms(mulawTone(CALLER_HZ, 20_000));
    const clock = callerClock(call, (k) => voice[k] ?? SILENCE);
    // At the limit the bridge asks for a last sentence; the model says a 1.5 s goodbye.
    await upstream.waitFor('response.create');
    const goodbye = upstream.responseIds.at(-1)!;
    const bye = mulawTone(ASSISTANT_HZ, 1500);
    for (let offset = 0; offset < bye.length; offset += 1600) {
      upstream.audioDelta(goodbye, 'item_bye', bye.subarray(offset, offset + 1600));
    }
    upstream.audioDone(goodbye, 'item_bye');
    upstream.send(
      responseDone(goodbye, 'completed', [], {
        total_tokens: 3,
        input_tokens: 2,
        output_tokens: 1,
      }),
    );
    // The call ends once the caller has heard the goodbye to its end.
    await call.waitForClose(10_000);
    clock.stop();
    const heardFromMs = call.playback!.runStartedAt - clock.t0;

    const wav = await fetchRecording(call.callSid);
    const assistant = loudSpan(wav.right)!;
    expect(Math.abs(assistant.first / 8 - heardFromMs)).toBeLessThanOrEqual(TOLERANCE_MS);
    // Past the limit: the file goes on to the goodbye's end.
    expect(Math.abs(assistant.last / 8 - (heardFromMs + 1500))).toBeLessThanOrEqual(TOLERANCE_MS);
    expect(
      Math.abs(
        dominantFrequency(wav.right.subarray(assistant.first, assistant.last), 8000) - ASSISTANT_HZ,
      ),
    ).toBeLessThanOrEqual(10);
  }, 30_000);

  it('puts a caller turn’s atMs where the caller’s words are in the recording (the console seeks there)', async () => {
    await start({ HISTORY: 'on', DATA_DIR: dir });
    const call = await FakeTwilioCall.dial(service!.baseUrl, { playInRealTime: true });
    const upstream = await openai.connection(0);
    await upstream.waitFor('session.update');
    // The caller says a 2 s tone from 1 s on; server VAD reports it as the real server does:
    // speech_started as it begins, speech_stopped + the committed turn 500 ms after it ends.
    const words = frames20ms(mulawTone(CALLER_HZ, 2000));
    const clock = callerClock(call, (k) => (k >= 50 && k < 150 ? words[k - 50] : SILENCE));
    await sleep(1050);
    const item = upstream.speechStarted(1000);
    await sleep(2450);
    upstream.callerTurnEnded(item, 'I would like to cancel my contract.', 3000);
    await sleep(500);
    clock.stop();
    call.stop();
    call.hangUp();

    const wav = await fetchRecording(call.callSid);
    const said = loudSpan(wav.left)!;
    expect(Math.abs(said.first / 8 - 1000)).toBeLessThanOrEqual(TOLERANCE_MS);
    let record: { transcript: Array<{ role: string; atMs: number }> } | undefined;
    for (let attempt = 0; attempt < 100 && !record?.transcript.length; attempt++) {
      const response = await fetch(`${service!.baseUrl}/api/history/${call.callSid}`, {
        headers: auth,
      });
      if (response.status === 200) record = (await response.json()) as typeof record;
      else await response.arrayBuffer();
      if (!record?.transcript.length) await sleep(100);
    }
    const turn = record!.transcript.find((t) => t.role === 'caller')!;
    // Dated from speech_started, not from the commit 2.5 s later (after the words had ended).
    expect(Math.abs(turn.atMs - said.first / 8)).toBeLessThanOrEqual(TOLERANCE_MS * 5);
  }, 30_000);
});
