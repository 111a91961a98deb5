import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { CallEventBus } from '../events/call-event-bus.js';
import { CallAudioTaps } from '../call-audio/call-audio-taps.service.js';
import type { CallAudioListener, TappedCall } from '../call-audio/call-audio.js';
import { longestCallMs } from '../call/call-ending.js';
import {
  limitsConfig,
  recordingConfig,
  type LimitsConfig,
  type RecordingConfig,
} from '../config/config.namespaces.js';
import { CallRecording, summaryOf, type RecordingSummary } from './call-recording.js';
import { callSidOfFile, recordingFileName, repairRecordings } from './recording-repair.js';
import { RecordingStore } from './recording-store.js';
import { RecordingRetention } from './recording-retention.js';
import { HISTORY_ERASED, RECORDING_SAVED, type RecordingSavedEvent } from './recording.events.js';
import { dataBytesOf } from './wav.js';

/**
 * RECORDING=on: every media-stream call is recorded from its CallAudioTap to
 * RECORDINGS_DIR/<CallSid>.wav; when it ends the file is completed, kept by its store (moved to
 * S3 with a bucket) and announced as `recording.saved`. Files a crash left are completed at
 * start. Erasure (`history.erased`) and retention work whether recording is on or not, so
 * turning it off never strands recordings that exist.
 */
@Injectable()
export class RecordingService implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('Recording');
  private readonly active = new Map<string, CallRecording>();
  /** Recordings on their way to the store (an upload to S3): an erasure meanwhile marks them. */
  private readonly storing = new Map<string, { erased: boolean }>();
  /** Recordings being completed and stored: shutdown waits for them. */
  private readonly finishing = new Set<Promise<void>>();
  private unsubscribe?: () => void;
  /**
   * History awaits this through `emitAsync` (a rejection makes its DELETE answer 500). Typed as
   * EventEmitter2 listeners are (void); the promise is still what emitAsync collects, and it is
   * marked handled here so a plain `emit` cannot turn a failure into an unhandled rejection.
   */
  private readonly onErased = (payload: { callSid?: unknown }): void => {
    const erased = this.erase(payload?.callSid);
    erased.catch((error: unknown) => {
      this.log.error(
        `erasing the recording of ${String(payload?.callSid)} failed: ${(error as Error).message}`,
      );
    });
    return erased as unknown as void;
  };

  constructor(
    @Inject(recordingConfig.KEY) private readonly cfg: RecordingConfig,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
    private readonly taps: CallAudioTaps,
    private readonly events: CallEventBus,
    private readonly store: RecordingStore,
    private readonly retention: RecordingRetention,
  ) {}

  async onModuleInit(): Promise<void> {
    this.events.on(HISTORY_ERASED, this.onErased);
    this.retention.start();
    if (!this.cfg.recording) return;
    try {
      await mkdir(this.cfg.recordingsDir, { recursive: true });
      const repaired = await repairRecordings(this.cfg.recordingsDir);
      if (repaired.length > 0) {
        this.log.warn(
          `completed ${repaired.length} recording(s) a crash left: ${repaired.join(', ')}`,
        );
      }
      this.storeLeftovers();
    } catch (error) {
      // The calls go on; each recording will be marked failed with the reason.
      this.log.error(
        `RECORDINGS_DIR ${this.cfg.recordingsDir} is not usable: ${(error as Error).message}`,
      );
    }
    this.unsubscribe = this.taps.subscribe((call) => this.record(call));
    this.log.log(`recording every media-stream call (store: ${this.store.kind})`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    this.events.off(HISTORY_ERASED, this.onErased);
    await Promise.allSettled([...this.finishing]);
    this.store.close();
  }

  /** Whether this instance is still recording (or completing) the call's recording. */
  isRecording(callSid: string): boolean {
    return this.active.has(callSid);
  }

  /**
   * Deletes a call's recording, wherever it is (one still being finished is dropped when it is).
   * True if there was one: an erasure of a call with no record answers 404 only without one.
   * The recording of a call live here is not touched: the erasure checked that the call was not
   * live, so it started since (an outbound call placed while it was asked), and it is not the
   * call the erasure was about.
   */
  async erase(callSid: unknown): Promise<boolean> {
    if (typeof callSid !== 'string' || !callSidOfFile(recordingFileName(callSid))) return false;
    const running = this.active.get(callSid);
    if (running && !running.callEnded) {
      this.log.warn(
        `${callSid}: an erasure came while the call is live here; its recording is kept`,
      );
      return false;
    }
    if (running) running.erased = true;
    // Being stored: the object does not exist yet, so deleting it now would delete nothing.
    const storing = this.storing.get(callSid);
    if (storing) storing.erased = true;
    const local = await removed(join(this.cfg.recordingsDir, recordingFileName(callSid)));
    const stored = (await this.store.find(callSid)) !== undefined;
    await this.store.erase(callSid);
    return running !== undefined || storing !== undefined || local || stored;
  }

  /**
   * Keeps a completed file in its store: why that failed, if it did, and whether the call was
   * erased meanwhile (what was stored is then erased again, and nothing announces it).
   */
  private async keep(callSid: string, path: string): Promise<{ failed?: string; erased: boolean }> {
    const storing = { erased: false };
    this.storing.set(callSid, storing);
    try {
      const failed = await this.store.keep(callSid, path);
      if (storing.erased) {
        await rm(path, { force: true });
        await this.store.erase(callSid);
      }
      return { failed, erased: storing.erased };
    } finally {
      this.storing.delete(callSid);
    }
  }

  private record(call: TappedCall): CallAudioListener | undefined {
    if (!callSidOfFile(recordingFileName(call.callSid)) || this.active.has(call.callSid)) {
      return undefined;
    }
    const recording = new CallRecording(
      call.callSid,
      join(this.cfg.recordingsDir, recordingFileName(call.callSid)),
      // The goodbye said at the duration limit is part of the call, and of its recording.
      longestCallMs(this.limits.maxCallDurationS),
      (ended) => this.track(this.complete(ended)),
    );
    this.active.set(call.callSid, recording);
    return recording;
  }

  private async complete(recording: CallRecording): Promise<void> {
    const { callSid } = recording;
    let summary = await recording.finish();
    this.active.delete(callSid);
    if (recording.erased) {
      await rm(recording.path, { force: true });
      return;
    }
    if (recording.droppedSamples > 0) {
      this.log.warn(`${callSid}: ${recording.droppedSamples} samples outside the reorder window`);
    }
    if (!summary.failed) {
      const { failed, erased } = await this.keep(callSid, recording.path);
      if (erased) return;
      if (failed) summary = { ...summary, failed };
    }
    if (summary.failed) this.log.error(`${callSid}: recording failed: ${summary.failed}`);
    this.saved(callSid, summary);
  }

  /** Files left in RECORDINGS_DIR by a crash, or a failed upload: to their store now. */
  private storeLeftovers(): void {
    if (this.store.kind === 'local') return;
    this.track(
      (async () => {
        for (const name of await readdir(this.cfg.recordingsDir)) {
          const callSid = callSidOfFile(name);
          if (!callSid || this.active.has(callSid)) continue;
          const path = join(this.cfg.recordingsDir, name);
          const { size } = await stat(path);
          const { failed, erased } = await this.keep(callSid, path);
          if (!erased) this.saved(callSid, summaryOf(dataBytesOf(size), failed));
        }
      })(),
    );
  }

  private saved(callSid: string, recording: RecordingSummary): void {
    const event: RecordingSavedEvent = { callSid, recording };
    this.events.emit(RECORDING_SAVED, event);
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => {
      this.log.error(`recording: ${(error as Error).message}`);
    });
    this.finishing.add(tracked);
    void tracked.finally(() => this.finishing.delete(tracked));
  }
}

/** Deletes a file; false if there was none. */
async function removed(path: string): Promise<boolean> {
  try {
    await rm(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
