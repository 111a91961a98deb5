import { Module } from '@nestjs/common';
import { ConsoleSessionsModule } from '../console/console-sessions.module.js';
import { ConsoleRecordingController } from './recording.controller.js';
import { RecordingModule } from './recording.module.js';

/** `GET /console/api/history/:callSid/recording`: part of the console surface. */
@Module({
  imports: [RecordingModule, ConsoleSessionsModule],
  controllers: [ConsoleRecordingController],
})
export class ConsoleRecordingModule {}
