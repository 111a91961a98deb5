import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CallEventBus } from '../events/call-event-bus.js';
import { recordingConfig, type RecordingConfig } from '../config/config.namespaces.js';
import { RecordingStore } from './recording-store.js';
import { RECORDING_EXPIRED } from './recording.events.js';

/** How often recordings past RECORDING_RETENTION_DAYS are deleted (and once at start). */
export const RECORDING_RETENTION_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** The first run waits this long after start, so start-up itself stays quick. */
export const RECORDING_RETENTION_FIRST_RUN_MS = 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The daily job that deletes recordings older than RECORDING_RETENTION_DAYS, and tells history
 * (`recording.expired`) so the record no longer points at one.
 */
@Injectable()
export class RecordingRetention implements OnApplicationShutdown {
  private readonly log = new Logger('RecordingRetention');
  private timer?: NodeJS.Timeout;
  private running?: Promise<string[]>;

  constructor(
    @Inject(recordingConfig.KEY) private readonly cfg: RecordingConfig,
    private readonly store: RecordingStore,
    private readonly events: CallEventBus,
  ) {}

  start(): void {
    const run = () => void this.run();
    this.timer = setTimeout(() => {
      run();
      this.timer = setInterval(run, RECORDING_RETENTION_INTERVAL_MS).unref();
    }, RECORDING_RETENTION_FIRST_RUN_MS).unref();
  }

  /** One pass: what it deleted (a pass already under way is joined, not doubled). */
  run(now = Date.now()): Promise<string[]> {
    this.running ??= this.expire(now).finally(() => (this.running = undefined));
    return this.running;
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
    clearInterval(this.timer);
  }

  private async expire(now: number): Promise<string[]> {
    const before = new Date(now - this.cfg.recordingRetentionDays * DAY_MS);
    try {
      const expired = await this.store.expire(before);
      for (const callSid of expired) this.events.emit(RECORDING_EXPIRED, { callSid });
      if (expired.length > 0) {
        this.log.log(`deleted ${expired.length} recording(s) older than ${before.toISOString()}`);
      }
      return expired;
    } catch (error) {
      this.log.error(
        `deleting old recordings failed (next try in a day): ${(error as Error).message}`,
      );
      return [];
    }
  }
}
