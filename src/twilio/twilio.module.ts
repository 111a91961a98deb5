import { StreamStatusController } from './stream-status.controller.js';
import { Module } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { limitsConfig, type LimitsConfig } from '../config/config.namespaces.js';
import { CallDirectory } from '../cluster/call-directory.js';
import { SharedStreamReplayMemory } from '../cluster/shared-stream-replay-memory.js';
import { InMemoryStreamReplayMemory, StreamReplayMemory } from './stream-replay-memory.js';
import { StreamTokenService } from './stream-token.service.js';
import { StreamUrlService } from './stream-url.service.js';
import { TwilioController } from './twilio.controller.js';
import { TwilioSignatureGuard } from './twilio-signature.guard.js';
import { TwilioSignatureService } from './twilio-signature.service.js';

@Module({
  imports: [CallModule],
  controllers: [TwilioController, StreamStatusController],
  providers: [
    TwilioSignatureService,
    StreamTokenService,
    StreamUrlService,
    TwilioSignatureGuard,
    {
      // This process's memory; in cluster mode the CallDirectory's (Redis), shared by every
      // instance and kept across restarts.
      provide: StreamReplayMemory,
      inject: [CallDirectory, limitsConfig.KEY],
      useFactory: (directory: CallDirectory, limits: LimitsConfig) =>
        directory.health().mode === 'redis'
          ? new SharedStreamReplayMemory(directory, limits.streamReplayMemoryS)
          : new InMemoryStreamReplayMemory(limits.streamReplayMemoryS * 1000),
    },
  ],
  exports: [TwilioSignatureService, StreamTokenService, StreamReplayMemory],
})
export class TwilioModule {}
