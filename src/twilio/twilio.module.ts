import { Module } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { limitsConfig, type LimitsConfig } from '../config/config.namespaces.js';
import { CallDirectory } from '../cluster/call-directory.js';
import { SharedStreamReplayMemory } from '../cluster/shared-stream-replay-memory.js';
import { StreamReplayMemory } from './stream-replay-memory.js';
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
      // In the CallDirectory: this process's memory, or Redis (shared) in cluster mode.
      provide: StreamReplayMemory,
      inject: [CallDirectory, limitsConfig.KEY],
      useFactory: (directory: CallDirectory, limits: LimitsConfig) =>
        new SharedStreamReplayMemory(directory, limits.streamReplayMemoryS),
    },
  ],
  exports: [TwilioSignatureService, StreamTokenService, StreamReplayMemory],
})
export class TwilioModule {}
