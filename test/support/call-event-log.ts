import { Injectable, Module } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import type { AnyCallEvent } from '../../src/events/call-events.js';

/** Every call event the bridge emitted, in order (a test clears it before each case). */
export const seenCallEvents: AnyCallEvent[] = [];

@Injectable()
class CallEventLog {
  @OnEvent('call.*')
  record(event: AnyCallEvent): void {
    seenCallEvents.push(event);
  }
}

/** Imported into a test's bridge: records its call events into `seenCallEvents`. */
@Module({ providers: [CallEventLog] })
export class CallEventLogModule {}
