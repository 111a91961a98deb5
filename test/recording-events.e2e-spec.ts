import { existsSync, utimesSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallEventBus } from '../src/events/call-event-bus.js';
import { RecordingRetention } from '../src/recording/recording-retention.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioCall, testSid } from './support/fake-twilio.js';
import { S3RVER_CREDENTIALS, S3Server } from './support/s3-server.js';
import { TEST_API_TOKEN } from './support/secrets.js';
import { sleep, waitUntil } from './support/wait.js';

// The recorder's side of the contract with history, in process: 'recording.saved' with the
// summary (failed when the disk failed), erasure ('history.erased', emitted by history's DELETE:
// the recording is gone from its store, its route answers 404) and retention.

const auth = { authorization: `Bearer ${TEST_API_TOKEN}` };

/** A complete recording of `ms` of silence, as the bridge writes one (a canonical header). */
function recordingFile(ms: number): Buffer {
  const data = ms * 32;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(2, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(32000, 28);
  header.writeUInt16LE(4, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data, 40);
  return Buffer.concat([header, Buffer.alloc(data)]);
}

describe('recordings and history: saved, erased, expired', () => {
  let dir: string;
  let bridge: RunningBridge | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recording-erasure-'));
    await mkdir(join(dir, 'recordings'));
  });

  afterEach(async () => {
    await bridge?.close();
    bridge = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const status = async (callSid: string) =>
    (await fetch(`${bridge!.baseUrl}/api/history/${callSid}/recording`, { headers: auth })).status;

  it('announces recording.saved with the summary history stores once the call has ended', async () => {
    const openai = new FakeRealtimeServer();
    await openai.start();
    try {
      bridge = await startBridge({
        API_TOKEN: TEST_API_TOKEN,
        RECORDING: 'on',
        DATA_DIR: dir,
        OPENAI_REALTIME_URL: openai.url,
        AUDIO_INPUT_FORMAT: 'g711_ulaw',
      });
      const saved: unknown[] = [];
      bridge.app.get(CallEventBus).on('recording.saved', (event) => saved.push(event));
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      await (await openai.connection(0)).waitFor('session.update');
      for (let i = 0; i < 25; i++) call.sendMedia(Buffer.alloc(160, 0xff));
      await sleep(100);
      call.stop();
      call.hangUp();
      await waitUntil(() => saved.length === 1, 'recording.saved');
      expect(saved[0]).toEqual({
        callSid: call.callSid,
        recording: { durationMs: 500, channels: 2, sampleRate: 8000, bytes: 44 + 500 * 32 },
      });
      expect(await status(call.callSid)).toBe(200);
    } finally {
      await bridge?.close();
      bridge = undefined;
      await openai.stop();
    }
  });

  it('announces a recording whose disk failed as failed, with the reason', async () => {
    const openai = new FakeRealtimeServer();
    await openai.start();
    try {
      bridge = await startBridge({
        API_TOKEN: TEST_API_TOKEN,
        RECORDING: 'on',
        RECORDINGS_DIR: join(dir, 'recordings'),
        OPENAI_REALTIME_URL: openai.url,
        AUDIO_INPUT_FORMAT: 'g711_ulaw',
      });
      await rm(join(dir, 'recordings'), { recursive: true });
      await writeFile(join(dir, 'recordings'), 'a file where the directory was');
      const saved: Array<{ recording: { failed?: string } }> = [];
      bridge.app.get(CallEventBus).on('recording.saved', (event) => saved.push(event));
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      await (await openai.connection(0)).waitFor('session.update');
      for (let i = 0; i < 10; i++) call.sendMedia(Buffer.alloc(160, 0xff));
      call.stop();
      call.hangUp();
      await waitUntil(() => saved.length === 1, 'recording.saved');
      expect(saved[0].recording.failed).toMatch(/ENOTDIR/);
    } finally {
      await bridge?.close();
      bridge = undefined;
      await openai.stop();
    }
  });

  it('deletes the file when history erases the call, and its route answers 404', async () => {
    const callSid = testSid('CA');
    const path = join(dir, 'recordings', `${callSid}.wav`);
    await writeFile(path, recordingFile(100));
    bridge = await startBridge({ API_TOKEN: TEST_API_TOKEN, RECORDING: 'on', DATA_DIR: dir });
    expect(await status(callSid)).toBe(200);

    await bridge.app.get(CallEventBus).emitAsync('history.erased', { callSid });
    expect(existsSync(path)).toBe(false);
    expect(await status(callSid)).toBe(404);
  });

  it('deletes recordings older than RECORDING_RETENTION_DAYS and says so with recording.expired', async () => {
    const old = testSid('CA');
    const recent = testSid('CA');
    await writeFile(join(dir, 'recordings', `${old}.wav`), recordingFile(100));
    await writeFile(join(dir, 'recordings', `${recent}.wav`), recordingFile(100));
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    utimesSync(join(dir, 'recordings', `${old}.wav`), eightDaysAgo, eightDaysAgo);
    bridge = await startBridge({
      API_TOKEN: TEST_API_TOKEN,
      RECORDING: 'on',
      RECORDINGS_DIR: join(dir, 'recordings'),
      RECORDING_RETENTION_DAYS: '7',
    });
    const expired: unknown[] = [];
    bridge.app.get(CallEventBus).on('recording.expired', (event) => expired.push(event));

    expect(await bridge.app.get(RecordingRetention).run()).toEqual([old]);
    expect(expired).toEqual([{ callSid: old }]);
    expect(await status(old)).toBe(404);
    expect(await status(recent)).toBe(200);
  });

  describe('in an S3-compatible bucket', () => {
    let s3: S3Server;
    const saved: Record<string, string | undefined> = {};

    beforeEach(async () => {
      s3 = await S3Server.start();
      // The AWS SDK's default chain reads the process's environment.
      for (const [name, value] of Object.entries(S3RVER_CREDENTIALS)) {
        saved[name] = process.env[name];
        process.env[name] = value;
      }
    });

    afterEach(async () => {
      await bridge?.close();
      bridge = undefined;
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await s3.stop();
    });

    it('uploads what an earlier run left at start, then deletes the object on erasure', async () => {
      const callSid = testSid('CA');
      await writeFile(join(dir, 'recordings', `${callSid}.wav`), recordingFile(200));
      const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _key, ...settings } = s3.env();
      bridge = await startBridge({
        API_TOKEN: TEST_API_TOKEN,
        RECORDING: 'on',
        RECORDINGS_DIR: join(dir, 'recordings'),
        ...settings,
      });
      for (let i = 0; i < 100 && (await status(callSid)) !== 200; i++) await sleep(50);
      expect(await status(callSid)).toBe(200);
      expect(existsSync(join(dir, 'recordings', `${callSid}.wav`))).toBe(false);

      await bridge.app.get(CallEventBus).emitAsync('history.erased', { callSid });
      expect(await status(callSid)).toBe(404);
    });
  });
});
