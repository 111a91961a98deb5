import { Module } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { limitsConfig, type LimitsConfig } from '../config/config.namespaces.js';
import { InMemoryStreamReplayMemory, StreamReplayMemory } from './stream-replay-memory.js';
import { StreamTokenService } from './stream-token.service.js';
import { TwilioController } from './twilio.controller.js';
import { TwilioSignatureGuard } from './twilio-signature.guard.js';
import { TwilioSignatureService } from './twilio-signature.service.js';

@Module({
  imports: [CallModule],
  controllers: [TwilioController],
  providers: [
    TwilioSignatureService,
    StreamTokenService,
    TwilioSignatureGuard,
    {
      // In this process for now; the cluster work provides a shared store under the same token.
      provide: StreamReplayMemory,
      inject: [limitsConfig.KEY],
      useFactory: (limits: LimitsConfig) =>
        new InMemoryStreamReplayMemory(limits.streamReplayMemoryS * 1000),
    },
  ],
  exports: [TwilioSignatureService, StreamTokenService, StreamReplayMemory],
})
export class TwilioModule {}
