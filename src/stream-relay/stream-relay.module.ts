import { Module } from '@nestjs/common';
import { StreamRelayClient } from './stream-relay-client.service.js';
import { StreamRelayHost } from './stream-relay-host.service.js';

/**
 * The stream relay (cluster mode): an event stream of a call, opened on an instance that does
 * not carry it, followed on the call's owner and relayed over the signed cluster bus. The
 * console's call view and the API's call events register their sources with the host.
 */
@Module({
  providers: [StreamRelayClient, StreamRelayHost],
  exports: [StreamRelayClient, StreamRelayHost],
})
export class StreamRelayModule {}
