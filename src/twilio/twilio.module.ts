import { Module } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { BridgeHttpModule } from '../http/bridge-http.module.js';
import { StreamReplayMemory } from './stream-replay-memory.js';
import { StreamTokenService } from './stream-token.service.js';
import { StreamUrlService } from './stream-url.service.js';
import { TwilioController } from './twilio.controller.js';
import { TwilioSignatureGuard } from './twilio-signature.guard.js';
import { TwilioSignatureService } from './twilio-signature.service.js';

@Module({
  imports: [CallModule, BridgeHttpModule],
  controllers: [TwilioController],
  providers: [
    TwilioSignatureService,
    StreamTokenService,
    StreamUrlService,
    TwilioSignatureGuard,
    StreamReplayMemory,
  ],
  exports: [TwilioSignatureService, StreamTokenService, StreamReplayMemory, StreamUrlService],
})
export class TwilioModule {}
