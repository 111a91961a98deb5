import { pipeline } from 'node:stream/promises';
import {
  BadRequestException,
  HttpException,
  HttpStatus,
  Injectable,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { isCallId } from '../call-control/call-control.rules.js';
import { parseByteRange } from './byte-range.js';
import { RecordingStore } from './recording-store.js';
import { RecordingService } from './recording.service.js';

/**
 * A call's recording over HTTP for both routes (the API's, the console's): `audio/wav`,
 * `Range` honoured (206, or 416 with the size), streamed from its store, never read whole.
 */
@Injectable()
export class RecordingReader {
  private readonly log = new Logger('Recording');

  constructor(
    private readonly store: RecordingStore,
    private readonly recordings: RecordingService,
  ) {}

  async send(callSid: string, req: Request, res: Response): Promise<void> {
    if (!isCallId(callSid)) {
      throw new BadRequestException('not a call id (a Twilio CallSid CA + 32 hex, or rtc_...)');
    }
    // Until its call ends the file has no final sizes (and with S3 it is not there yet).
    if (this.recordings.isRecording(callSid)) {
      throw new NotFoundException(`call ${callSid} is still being recorded`);
    }
    const recording = await this.store.find(callSid);
    if (!recording) throw new NotFoundException(`no recording of call ${callSid}`);
    const range = parseByteRange(req.headers.range, recording.bytes);
    if (range === 'unsatisfiable') {
      res.setHeader('Content-Range', `bytes */${recording.bytes}`);
      throw new HttpException('range not satisfiable', HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE);
    }
    const body = await recording.read(range);
    res.setHeader('Content-Type', 'audio/wav');
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Cache-Control', 'private, no-store');
    if (range) {
      res.status(HttpStatus.PARTIAL_CONTENT);
      res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${recording.bytes}`);
      res.setHeader('Content-Length', String(range.end - range.start + 1));
    } else {
      res.status(HttpStatus.OK);
      res.setHeader('Content-Length', String(recording.bytes));
    }
    try {
      await pipeline(body, res);
    } catch (error) {
      // Headers are gone: all that is left is to cut the response short (the client sees it).
      if (!res.destroyed) res.destroy();
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ERR_STREAM_PREMATURE_CLOSE') {
        this.log.warn(`reading the recording of ${callSid} failed: ${(error as Error).message}`);
      }
    }
  }
}
