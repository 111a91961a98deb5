import { Injectable, type OnModuleInit } from '@nestjs/common';
import { CallRegistry } from '../call/call-registry.service.js';
import type { SseSink } from '../http/sse-stream.js';
import {
  StreamRelayHost,
  type StreamRefusal,
  type StreamSource,
} from '../stream-relay/stream-relay-host.service.js';
import { CallEventFollowers } from './call-event-followers.service.js';
import { CallEventHistory } from './call-event-history.service.js';

/**
 * A call's events (`GET /api/calls/:callSid/events`) as the stream relay's owner serves them
 * (cluster mode): a client of another instance gets the call's events so far, then as they
 * happen, as a client of this one does, under the same follower bounds.
 */
@Injectable()
export class CallEventsSource implements StreamSource, OnModuleInit {
  constructor(
    private readonly registry: CallRegistry,
    private readonly followers: CallEventFollowers,
    private readonly history: CallEventHistory,
    private readonly host: StreamRelayHost,
  ) {}

  onModuleInit(): void {
    this.host.register('call-events', this);
  }

  refusal(callSid: string): StreamRefusal | undefined {
    if (!this.registry.get(callSid)) return { status: 404, message: `no live call ${callSid}` };
    const refusal = this.followers.refusalFor(callSid);
    if (!refusal) return undefined;
    return {
      status: 429,
      message: `too many event followers on the call's instance (${refusal === 'too_many' ? 'MAX_SSE_FOLLOWERS' : 'MAX_SSE_FOLLOWERS_PER_CALL'})`,
    };
  }

  follow(callSid: string, sink: SseSink): void {
    this.followers.followInto(callSid, sink, this.history.of(callSid));
  }
}
