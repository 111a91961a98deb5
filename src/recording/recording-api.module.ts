import { Module } from '@nestjs/common';
import { RecordingController } from './recording.controller.js';
import { RecordingModule } from './recording.module.js';

/** `GET /api/history/:callSid/recording`: part of the call-control API surface. */
@Module({ imports: [RecordingModule], controllers: [RecordingController] })
export class RecordingApiModule {}
