import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dominantFrequency, frames20ms, mulawTone } from './support/audio.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { measureLoopLateness } from './support/loop-lateness.js';
import { FakeTwilioCall, postTwiml, TEST_AUTH_TOKEN, testSid } from './support/fake-twilio.js';
import { S3Server } from './support/s3-server.js';
import { TEST_API_TOKEN } from './support/secrets.js';
import { ServiceProcess } from './support/service-process.js';
import { callerClock } from './support/twilio-inbound.js';
import { sleep, waitUntil } from './support/wait.js';
import { loudSpan, parseWav } from './support/wav-file.js';

// Recordings of what the caller heard, on the built service: the caller on channel 1, the
// assistant on channel 2 as Twilio played it (cut where the barge-in cut it), both on the
// call's clock; served with Range; kept across restarts and crashes; locally or in S3.

const SILENCE = Buffer.alloc(160, 0xff);
const CALLER_HZ = 440;
const ASSISTANT_HZ = 1000;
const CALLER_TONE_MS = 500;
/** The alignment the issue asks for. */
const TOLERANCE_MS = 40;
const auth = { authorization: `Bearer ${TEST_API_TOKEN}` };

describe('recordings (the built service)', () => {
  let openai: FakeRealtimeServer;
  let service: ServiceProcess | undefined;
  let dir: string;

  beforeEach(async () => {
    openai = new FakeRealtimeServer();
    await openai.start();
    dir = await mkdtemp(join(tmpdir(), 'recordings-e2e-'));
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

  const recordingUrl = (callSid: string, base = '/api/history') =>
    `${service!.baseUrl}${base}/${callSid}/recording`;

  async function fetchRecording(callSid: string): Promise<Buffer> {
    // Polled: the recording is served once its call has ended and it is stored.
    let response: Response | undefined;
    for (let attempt = 0; attempt < 150; attempt++) {
      response = await fetch(recordingUrl(callSid), { headers: auth });
      if (response.status === 200) break;
      await response.arrayBuffer();
      await sleep(100);
    }
    expect(response!.status).toBe(200);
    expect(response!.headers.get('content-type')).toBe('audio/wav');
    expect(response!.headers.get('accept-ranges')).toBe('bytes');
    return Buffer.from(await response!.arrayBuffer());
  }

  /**
   * A call where the caller says a 440 Hz tone for 500 ms, the model answers with 2 s of a
   * 1000 Hz tone, and the caller barges in after hearing about 600 ms of it. Returns when the
   * caller heard the answer, on the call's clock, by the fake Twilio's playback.
   */
  async function bargeInCall() {
    // The fake Twilio stamps what the caller heard when this process gets to the frame.
    const stopMeasuring = measureLoopLateness();
    const index = openai.connections.length;
    const call = await FakeTwilioCall.dial(service!.baseUrl, { playInRealTime: true });
    const upstream = await openai.connection(index);
    await upstream.waitFor('session.update');
    const callerFrames = frames20ms(mulawTone(CALLER_HZ, CALLER_TONE_MS));
    const clock = callerClock(call, (k) => callerFrames[k] ?? SILENCE);
    await sleep(600);
    const reply = mulawTone(ASSISTANT_HZ, 2000);
    for (let offset = 0; offset < reply.length; offset += 800) {
      upstream.audioDelta('resp_1', 'item_1', reply.subarray(offset, offset + 800));
    }
    await waitUntil(() => (call.playback?.playedMs() ?? 0) >= 600, 'the caller to hear 600 ms');
    upstream.send({
      type: 'input_audio_buffer.speech_started',
      audio_start_ms: 1000,
      item_id: 'item_user',
    });
    await call.waitFor('clear');
    await sleep(400);
    clock.stop();
    call.stop();
    call.hangUp();
    const heardFromMs = call.playback!.runStartedAt - clock.t0;
    const stampLateMs = stopMeasuring();
    return {
      callSid: call.callSid,
      heardFromMs,
      heardToMs: heardFromMs + call.playback!.clears[0].playedMs,
      // The alignment asked for is TOLERANCE_MS on top of this.
      stampLateMs,
    };
  }

  function expectHeardAudio(
    file: Buffer,
    heard: { heardFromMs: number; heardToMs: number; stampLateMs: number },
  ) {
    const wav = parseWav(file);
    expect(wav).toMatchObject({ channels: 2, sampleRate: 8000, bitsPerSample: 16 });
    expect(wav.riffSize).toBe(file.length - 8);
    expect(wav.dataSize).toBe(file.length - 44);
    // Channel 1: the caller's tone, from the stream's start, then the silence they sent.
    const caller = loudSpan(wav.left)!;
    expect(caller.first / 8).toBeLessThanOrEqual(TOLERANCE_MS);
    expect(Math.abs(caller.last / 8 - CALLER_TONE_MS)).toBeLessThanOrEqual(TOLERANCE_MS);
    expect(
      Math.abs(dominantFrequency(wav.left.subarray(0, 3200), 8000) - CALLER_HZ),
    ).toBeLessThanOrEqual(10);
    // Channel 2: the answer from when it began to play to where the barge-in cut it.
    const assistant = loudSpan(wav.right)!;
    const tolerance = TOLERANCE_MS + heard.stampLateMs;
    expect(Math.abs(assistant.first / 8 - heard.heardFromMs)).toBeLessThanOrEqual(tolerance);
    expect(Math.abs(assistant.last / 8 - heard.heardToMs)).toBeLessThanOrEqual(tolerance);
    const played = wav.right.subarray(assistant.first, assistant.last);
    expect(Math.abs(dominantFrequency(played, 8000) - ASSISTANT_HZ)).toBeLessThanOrEqual(10);
  }

  it('records the caller on channel 1 and the assistant as heard on channel 2, cut at the barge-in and aligned', async () => {
    await start();
    const heard = await bargeInCall();
    const file = await fetchRecording(heard.callSid);
    expectHeardAudio(file, heard);

    // Range: a part (206), the rest from an offset, and past the end (416).
    const part = await fetch(recordingUrl(heard.callSid), {
      headers: { ...auth, range: 'bytes=0-43' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-43/${file.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(file.subarray(0, 44));
    const rest = await fetch(recordingUrl(heard.callSid), {
      headers: { ...auth, range: 'bytes=1000-' },
    });
    expect(rest.status).toBe(206);
    expect(Buffer.from(await rest.arrayBuffer())).toEqual(file.subarray(1000));
    const beyond = await fetch(recordingUrl(heard.callSid), {
      headers: { ...auth, range: `bytes=${file.length}-` },
    });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${file.length}`);

    // The console's route (its guard also takes the Bearer token), and the refusals.
    const consoleCopy = await fetch(recordingUrl(heard.callSid, '/console/api/history'), {
      headers: auth,
    });
    expect(consoleCopy.status).toBe(200);
    expect(Buffer.from(await consoleCopy.arrayBuffer())).toEqual(file);
    expect((await fetch(recordingUrl(heard.callSid))).status).toBe(401);
    expect((await fetch(recordingUrl(heard.callSid, '/console/api/history'))).status).toBe(401);
    expect((await fetch(recordingUrl('CAnot-a-sid'), { headers: auth })).status).toBe(400);
    expect((await fetch(recordingUrl(testSid('CA')), { headers: auth })).status).toBe(404);

    // A restart keeps it.
    await service!.kill('SIGTERM');
    await service!.waitForExit();
    await start();
    expect(await fetchRecording(heard.callSid)).toEqual(file);
  });

  it('completes, at the next start, a recording a crash left, readable up to the crash', async () => {
    await start();
    const call = await FakeTwilioCall.dial(service!.baseUrl);
    await (await openai.connection(0)).waitFor('session.update');
    // Caller audio in real time (faster is dropped as flooding) until some of it has left the
    // reorder window for the disk.
    const tone = frames20ms(mulawTone(CALLER_HZ, 20_000));
    const clock = callerClock(call, (k) => tone[k] ?? SILENCE);
    const path = join(dir, 'recordings', `${call.callSid}.wav`);
    await waitUntil(
      () => existsSync(path) && statSync(path).size > 44 + 32_000,
      'audio on disk',
      15_000,
    );
    await service!.kill('SIGKILL');
    clock.stop();
    // What the crash left: audio, and a header whose sizes were never completed.
    expect(readFileSync(path).readUInt32LE(40)).toBe(0);

    await start();
    expect(service!.logs).toMatch(/completed 1 recording\(s\) a crash left/);
    const wav = parseWav(await fetchRecording(call.callSid));
    expect(wav.dataSize).toBe(statSync(path).size - 44);
    expect(wav.left.length).toBeGreaterThanOrEqual(8000);
    expect(
      Math.abs(dominantFrequency(wav.left.subarray(0, 8000), 8000) - CALLER_HZ),
    ).toBeLessThanOrEqual(10);
  });

  it('marks the recording failed when RECORDINGS_DIR cannot be written, and the call goes on', async () => {
    await start();
    // The directory becomes unusable after start (a file where the directory was).
    rmSync(join(dir, 'recordings'), { recursive: true });
    writeFileSync(join(dir, 'recordings'), 'not a directory');
    const call = await FakeTwilioCall.dial(service!.baseUrl);
    const upstream = await openai.connection(0);
    await upstream.waitFor('session.update');
    const audio = mulawTone(CALLER_HZ, 1000);
    for (const frame of frames20ms(audio)) call.sendMedia(frame);
    await waitUntil(() => upstream.appendedAudio().length === audio.length, 'audio at the model');
    upstream.audioDelta('resp_1', 'item_1', mulawTone(ASSISTANT_HZ, 100));
    await call.waitFor('media');
    call.stop();
    call.hangUp();
    await waitUntil(() => /recording failed: .*ENOTDIR/.test(service!.logs), 'the failure logged');
    expect(service!.exited).toBe(false);
    expect((await fetch(recordingUrl(call.callSid), { headers: auth })).status).toBe(404);
    // The next call is taken as usual.
    const next = await FakeTwilioCall.dial(service!.baseUrl);
    await (await openai.connection(1)).waitFor('session.update');
    next.hangUp();
  });

  it('says RECORDING_NOTICE before connecting the stream, only when recording', async () => {
    const notice = 'This call is recorded for quality.';
    await start({ RECORDING_NOTICE: notice });
    const xml = await (
      await postTwiml(service!.baseUrl, { CallSid: testSid('CA'), From: '+15550001111' })
    ).text();
    expect(xml).toContain(`<Response><Say>${notice}</Say><Connect><Stream `);
    await service!.kill();
    await start({ RECORDING: 'off', RECORDING_NOTICE: notice });
    const plain = await (
      await postTwiml(service!.baseUrl, { CallSid: testSid('CA'), From: '+15550001111' })
    ).text();
    expect(plain).not.toContain('<Say>');
  });

  describe('in an S3-compatible bucket', () => {
    let s3: S3Server;
    beforeEach(async () => (s3 = await S3Server.start()));
    afterEach(() => s3.stop());

    it('uploads the finished recording, serves it from the bucket with Range, and removes the local file', async () => {
      await start(s3.env('calls/'));
      const heard = await bargeInCall();
      // s3rver answers a PUT once the body has passed its hash, before its file is flushed
      // (its `finish` is the transform's, not the write stream's), so a read right after the
      // upload can find the file still empty. Real S3 never shows a partial object.
      let file = await fetchRecording(heard.callSid);
      for (let retry = 0; retry < 20 && file.toString('ascii', 0, 4) !== 'RIFF'; retry++) {
        await sleep(100);
        file = await fetchRecording(heard.callSid);
      }
      expectHeardAudio(file, heard);
      expect(readdirSync(join(dir, 'recordings'))).toEqual([]);
      const part = await fetch(recordingUrl(heard.callSid), {
        headers: { ...auth, range: 'bytes=44-1043' },
      });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 44-1043/${file.length}`);
      expect(Buffer.from(await part.arrayBuffer())).toEqual(file.subarray(44, 1044));
      expect((await fetch(recordingUrl(testSid('CA')), { headers: auth })).status).toBe(404);
    });
  });
});
