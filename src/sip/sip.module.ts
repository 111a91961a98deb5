import { Module, type INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { CallModule } from '../call/call.module.js';
import { openaiConfig, type OpenAIConfig } from '../config/config.namespaces.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { OpenAICallsClient } from './openai-calls.client.js';
import { SipCall } from './sip-call.js';
import { SipCallsService } from './sip-calls.service.js';
import { sipWebhookBodyReader } from './sip-webhook-body.js';
import { SipWebhookController } from './sip-webhook.controller.js';
import { SIP_WEBHOOK_PATH } from './sip.constants.js';
import { InMemoryWebhookDeliveries, WEBHOOK_DELIVERIES } from './webhook-deliveries.js';
import { WebhookVerifier } from './webhook-signature.js';

/**
 * The SIP transport: OpenAI's `realtime.call.incoming` webhook, the calls API client and the
 * per-call sideband. Imported only when OPENAI_WEBHOOK_SECRET is set (see AppModule), so
 * without it the route does not exist.
 */
@Module({
  imports: [CallModule, RealtimeModule],
  controllers: [SipWebhookController],
  providers: [
    OpenAICallsClient,
    SipCallsService,
    SipCall,
    {
      provide: WebhookVerifier,
      useFactory: (openai: OpenAIConfig) => {
        if (!openai.webhookSecret) throw new Error('SipModule needs OPENAI_WEBHOOK_SECRET');
        return new WebhookVerifier(openai.webhookSecret.reveal());
      },
      inject: [openaiConfig.KEY],
    },
    // This instance's memory; cluster mode provides a shared one under the same token.
    { provide: WEBHOOK_DELIVERIES, useFactory: () => new InMemoryWebhookDeliveries() },
  ],
  exports: [OpenAICallsClient],
})
export class SipModule {}

/** The raw-body reader for the webhook route, ahead of the JSON parser (see sipWebhookBodyReader). */
export function useSipWebhookBody(app: INestApplication): void {
  const config = app.get(ConfigService);
  if (!config.get<unknown>('openai.webhookSecret')) return;
  app.use(SIP_WEBHOOK_PATH, sipWebhookBodyReader());
}
