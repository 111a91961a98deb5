import { Module } from '@nestjs/common';
import type OpenAI from 'openai';
import { CallModule } from '../call/call.module.js';
import { sharedCallParts } from '../call/call-parts.js';
import { CALL_BARGE_IN, CALL_CHANNEL, CALL_LINE, CALL_PLAYBACK } from '../call/call-transport.js';
import { openaiConfig, type OpenAIConfig } from '../config/config.namespaces.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { OpenAICallsClient } from './openai-calls.client.js';
import { OPENAI_CLIENT, openaiClientProvider } from './openai-client.provider.js';
import { OrphanedSipCalls } from './orphaned-sip-calls.service.js';
import { ServerPlayback, ServerPlaybackState } from './server-playback.js';
import { SidebandEvents, SidebandLink } from './sideband-link.js';
import { SipCall } from './sip-call.js';
import { SipCallLine } from './sip-call-line.js';
import { SipCallsService } from './sip-calls.service.js';
import { WebhookDeliveries } from './webhook-deliveries.js';
import { WebhookVerifier } from './webhook-verifier.js';

/**
 * The SIP transport: the calls API client and the per-call sideband. Always part of the bridge
 * module (call control hangs up and transfers SIP calls through it); its entry, OpenAI's
 * `realtime.call.incoming` webhook, is a surface of its own (SipWebhookModule), whose route
 * answers 404 without OPENAI_WEBHOOK_SECRET (the settings may come from an async factory, known
 * only at start-up).
 */
@Module({
  imports: [CallModule, RealtimeModule],
  providers: [
    openaiClientProvider,
    OpenAICallsClient,
    SipCallsService,
    OrphanedSipCalls,
    // Per SIP call (Scope.REQUEST), in the call's own DI context: the media path's shared parts,
    // bound here to the SIP side of each seam (see call-transport.ts).
    SipCall,
    ...sharedCallParts,
    SidebandLink,
    SidebandEvents,
    ServerPlayback,
    ServerPlaybackState,
    SipCallLine,
    { provide: CALL_CHANNEL, useExisting: SidebandLink },
    { provide: CALL_PLAYBACK, useExisting: ServerPlaybackState },
    { provide: CALL_LINE, useExisting: SipCallLine },
    { provide: CALL_BARGE_IN, useExisting: ServerPlayback },
    {
      provide: WebhookVerifier,
      useFactory: (client: OpenAI, openai: OpenAIConfig) =>
        openai.webhookSecret ? new WebhookVerifier(client, openai.webhookSecret.reveal()) : null,
      inject: [OPENAI_CLIENT, openaiConfig.KEY],
    },
    WebhookDeliveries,
  ],
  exports: [OpenAICallsClient, SipCallsService, WebhookVerifier, WebhookDeliveries],
})
export class SipModule {}
