import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { responseDone } from '../src/testing/realtime-protocol.js';
import { dominantFrequency, frames20ms, mulawTone } from './support/audio.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioCall, TEST_AUTH_TOKEN } from './support/fake-twilio.js';
import { TEST_API_TOKEN } from './support/secrets.js';
import { ServiceProcess } from './support/service-process.js';
import { sleep } from './support/wait.js';
import { loudSpan, parseWav } from './support/wav-file.js';

// A recording at the edges of a call, against what the caller heard (the fake Twilio's real-time
// playback), on the built service: the goodbye said at MAX_CALL_DURATION_S is in the file, and a
// caller turn's atMs (where the console's History view seeks) is where the caller's words are.

const SILENCE = Buffer.alloc(160, 0xff);
const CALLER_HZ = 440;
const ASSISTANT_HZ = 1000;
const TOLERANCE_MS = 40;
const auth = { authorization: `Bearer ${TEST_API_TOKEN}` };

/** Twilio's caller frames in real time (frame k leaves at t0 + 20k), as recordings.e2e does. */
function callerClock(call: FakeTwilioCall, frameAt: (index: number) => Buffer) {
  const t0 = performance.now();
  let sent = 0;
  const tick = () => {
    const due = Math.floor((performance.now() - t0) / 20);
    while (sent <= due) call.sendMedia(frameAt(sent++));
  };
  tick();
  const timer = setInterval(tick, 5);
  return { t0, stop: () => clearInterval(timer) };
}

describe('a recording at the edges of a call', () => {
  let openai: FakeRealtimeServer;
  let service: ServiceProcess | undefined;
  let dir: string;

  beforeEach(async () => {
    openai = new FakeRealtimeServer();
    await openai.start();
    dir = await mkdtemp(join(tmpdir(), 'recording-edges-'));
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
