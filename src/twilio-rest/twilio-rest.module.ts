import { Module } from '@nestjs/common';
import { TwilioRestService } from './twilio-rest.service.js';

@Module({ providers: [TwilioRestService], exports: [TwilioRestService] })
export class TwilioRestModule {}
