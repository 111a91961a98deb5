import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallAudioTaps } from '../call-audio/call-audio-taps.service.js';
import type { CallAudioListener, TappedCall } from '../call-audio/call-audio.js';
import type { LimitsConfig, RecordingConfig } from '../config/config.namespaces.js';
import { CallEventBus } from '../events/call-event-bus.js';
import type { RecordingRetention } from './recording-retention.js';
import { RecordingStore, type StoredRecording } from './recording-store.js';
import { RecordingService } from './recording.service.js';
import { RECORDING_SAVED } from './recording.events.js';

const CALL_SID = `CA${'0123456789abcdef'.repeat(2)}`;

/** A bucket whose uploads finish when the test says, and where deleting a missing key is a no-op (as S3's DeleteObject). */
class SlowBucket extends RecordingStore {
  readonly kind = 's3' as const;
  readonly objects = new Set<string>();
  finishUpload?: () => void;

  keep(callSid: string): Promise<string | undefined> {
    return new Promise((resolve) => {
      this.finishUpload = () => {
        this.objects.add(callSid);
        resolve(undefined);
      };
    });
  }

  find(callSid: string): Promise<StoredRecording | undefined> {
    const found = this.objects.has(callSid) ? ({ bytes: 44 } as StoredRecording) : undefined;
    return Promise.resolve(found);
  }

  erase(callSid: string): Promise<void> {
    this.objects.delete(callSid);
    return Promise.resolve();
  }

  expire(): Promise<string[]> {
    return Promise.resolve([]);
  }
}

const eventually = async (condition: () => boolean) => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
};

describe('RecordingService', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A service recording to a new folder and a slow bucket, and one call it is recording. */
  async function recordingACall() {
    dir = mkdtempSync(join(tmpdir(), 'bridge-recording-'));
    let subscriber: ((call: TappedCall) => CallAudioListener | undefined) | undefined;
    const taps = {
      subscribe: (s: typeof subscriber) => {
        subscriber = s;
        return () => undefined;
      },
    } as unknown as CallAudioTaps;
    const bucket = new SlowBucket();
    const events = new CallEventBus();
    const saved: unknown[] = [];
    events.on(RECORDING_SAVED, (event) => saved.push(event));
    const service = new RecordingService(
      { recording: true, recordingsDir: dir } as RecordingConfig,
      { maxCallDurationS: 60 } as LimitsConfig,
      taps,
      events,
      bucket,
      { start: () => undefined } as unknown as RecordingRetention,
    );
    await service.onModuleInit();
    const recording = subscriber!({ callSid: CALL_SID, streamSid: 'MZ1', startedAt: new Date() })!;
    return { service, bucket, saved, recording };
  }

  it('erases a recording erased while it was being uploaded, once the upload is done', async () => {
    const { service, bucket, saved, recording } = await recordingACall();
    recording.callerAudio!(Buffer.alloc(160, 0xff), 0);
    recording.ended!();
    await eventually(() => bucket.finishUpload !== undefined);

    await service.erase(CALL_SID);
    bucket.finishUpload!();
    await service.onApplicationShutdown();

    expect(bucket.objects.has(CALL_SID)).toBe(false);
    expect(saved).toEqual([]);
  });

  it('answers whether an erasure found a recording: in the bucket, left on disk, or none', async () => {
    dir = mkdtempSync(join(tmpdir(), 'bridge-recording-'));
    const bucket = new SlowBucket();
    const service = new RecordingService(
      { recording: false, recordingsDir: dir } as RecordingConfig,
      { maxCallDurationS: 60 } as LimitsConfig,
      {} as CallAudioTaps,
      new CallEventBus(),
      bucket,
      { start: () => undefined } as unknown as RecordingRetention,
    );
    bucket.objects.add(CALL_SID);
    expect(await service.erase(CALL_SID)).toBe(true);
    expect(bucket.objects.has(CALL_SID)).toBe(false);
    expect(await service.erase(CALL_SID)).toBe(false);

    const leftover = join(dir, `${CALL_SID}.wav`);
    writeFileSync(leftover, Buffer.alloc(44));
    expect(await service.erase(CALL_SID)).toBe(true);
    expect(existsSync(leftover)).toBe(false);
    expect(await service.erase('../not-a-call')).toBe(false);
  });

  it('leaves alone the recording of a call live here (one that started since the erasure checked)', async () => {
    const { service, bucket, saved, recording } = await recordingACall();
    recording.callerAudio!(Buffer.alloc(160, 0xff), 0);
    await eventually(() => existsSync(join(dir, `${CALL_SID}.wav`)));

    expect(await service.erase(CALL_SID)).toBe(false);
    expect(existsSync(join(dir, `${CALL_SID}.wav`))).toBe(true);
    recording.ended!();
    await eventually(() => bucket.finishUpload !== undefined);
    bucket.finishUpload!();
    await service.onApplicationShutdown();
    expect(bucket.objects.has(CALL_SID)).toBe(true);
    expect(saved).toHaveLength(1);
  });
});
