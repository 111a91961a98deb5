import { Module } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { SipWebhookController } from './sip-webhook.controller.js';
import { SipModule } from './sip.module.js';

/** The `sipWebhook` surface: OpenAI's `realtime.call.incoming` webhook, the SIP calls' entry. */
@Module({ imports: [CallModule, SipModule], controllers: [SipWebhookController] })
export class SipWebhookModule {}
