import { Module } from '@nestjs/common';
import { CallAudioModule } from '../call-audio/call-audio.module.js';
import { recordingConfig, type RecordingConfig } from '../config/config.namespaces.js';
import { LocalRecordingStore } from './local-recording-store.js';
import { RecordingReader } from './recording-reader.service.js';
import { RecordingRetention } from './recording-retention.js';
import { RecordingService } from './recording.service.js';
import { RecordingStore } from './recording-store.js';

/**
 * Recordings of what the caller heard (RECORDING=on): written from each media-stream call's
 * CallAudioTap, kept locally or in S3, erased with the call's history, deleted after
 * RECORDING_RETENTION_DAYS. Their routes belong to the API and console surfaces
 * (RecordingApiModule, ConsoleRecordingModule), which may be switched off.
 */
@Module({
  imports: [CallAudioModule],
  providers: [
    {
      provide: RecordingStore,
      // The AWS SDK is loaded only by a bridge that uses a bucket.
      useFactory: async (cfg: RecordingConfig): Promise<RecordingStore> => {
        if (!cfg.s3Bucket) return new LocalRecordingStore(cfg.recordingsDir);
        const { S3RecordingStore } = await import('./s3-recording-store.js');
        return new S3RecordingStore({
          bucket: cfg.s3Bucket,
          endpoint: cfg.s3Endpoint,
          region: cfg.s3Region,
          prefix: cfg.s3Prefix,
        });
      },
      inject: [recordingConfig.KEY],
    },
    RecordingService,
    RecordingReader,
    RecordingRetention,
  ],
  exports: [RecordingService, RecordingReader],
})
export class RecordingModule {}
