import { Module } from '@nestjs/common';
import { ConsoleModule } from '../console/console.module.js';
import { ConsoleRecordingController } from './recording.controller.js';
import { RecordingModule } from './recording.module.js';

/** `GET /console/api/history/:callSid/recording`: part of the console surface. */
@Module({ imports: [RecordingModule, ConsoleModule], controllers: [ConsoleRecordingController] })
export class ConsoleRecordingModule {}
