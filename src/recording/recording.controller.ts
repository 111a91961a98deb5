import { Controller, Get, Param, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeController, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ConsoleAuthGuard } from '../console/console-auth.guard.js';
import { ApiTokenGuard } from '../http/api-token.guard.js';
import { RecordingReader } from './recording-reader.service.js';

/** A call's recording for applications (Bearer API_TOKEN). */
@ApiTags('history')
@ApiBearerAuth()
@Controller('api/history')
@UseGuards(ApiTokenGuard)
export class RecordingController {
  constructor(private readonly reader: RecordingReader) {}

  @Get(':callSid/recording')
  @ApiOperation({
    summary:
      "A call's recording: audio/wav, 2 channels (caller, assistant as heard), 8000 Hz, 16-bit; Range supported",
  })
  recording(
    @Param('callSid') callSid: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    return this.reader.send(callSid, req, res);
  }
}

/** The same for the console's page (its session cookie is scoped to /console). */
@ApiExcludeController()
@Controller('console/api/history')
@UseGuards(ConsoleAuthGuard)
export class ConsoleRecordingController {
  constructor(private readonly reader: RecordingReader) {}

  @Get(':callSid/recording')
  recording(
    @Param('callSid') callSid: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    return this.reader.send(callSid, req, res);
  }
}
