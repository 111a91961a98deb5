import { Module } from '@nestjs/common';
import { AudioCodecService } from './audio-codec.service.js';

@Module({ providers: [AudioCodecService], exports: [AudioCodecService] })
export class AudioModule {}
