import { Injectable, Scope } from '@nestjs/common';
import { functionCallsIn, type RealtimeServerEvent } from '../realtime/realtime.events.js';
import { CallEnding } from './call-ending.js';
import { CallRecorder, isConversationEvent, type ConversationEvent } from './call-recorder.js';
import { ResponseScheduler } from './response-scheduler.js';
import { ToolCallCoordinator } from './tool-calls.js';

/** The server events the flow takes care of, whatever the transport. */
export type FlowEvent =
  | ConversationEvent
  | Extract<
      RealtimeServerEvent,
      {
        type:
          | 'response.created'
          | 'response.done'
          | 'response.function_call_arguments.done'
          | 'response.output_item.done';
      }
    >;

const RESPONSE_EVENTS = new Set<string>([
  'response.created',
  'response.done',
  'response.function_call_arguments.done',
  'response.output_item.done',
]);

export function isFlowEvent(event: RealtimeServerEvent): event is FlowEvent {
  return RESPONSE_EVENTS.has(event.type) || isConversationEvent(event);
}

/**
 * The model's side of a call, the same on both transports: the conversation events go to the
 * record, responses through the scheduler (one at a time), function calls through the tool
 * coordinator (their outputs go back to the model through ToolOutputs), and each finished
 * response to the wrap-up. Audio, barge-in and the line are the transport's business. A per-call
 * provider.
 */
@Injectable({ scope: Scope.REQUEST })
export class ResponseFlow {
  constructor(
    private readonly recorder: CallRecorder,
    private readonly scheduler: ResponseScheduler,
    private readonly tools: ToolCallCoordinator,
    private readonly ending: CallEnding,
  ) {}

  handle(event: FlowEvent): void {
    if (isConversationEvent(event)) return this.recorder.observe(event);
    switch (event.type) {
      case 'response.created':
        return this.scheduler.onCreated(event.response);
      case 'response.done': {
        const { id, usage, output } = event.response;
        this.recorder.addUsage(usage);
        this.scheduler.onDone(event.response, this.giveUp);
        this.tools.onResponseDone(id, functionCallsIn(id, output));
        return this.ending.onResponseDone(id);
      }
      case 'response.function_call_arguments.done':
      case 'response.output_item.done': {
        const { call_id: callId, name, arguments: args } = event;
        this.recorder.memory.toolCall({ callId, name, arguments: args });
        return this.tools.onFunctionCall(event);
      }
    }
  }

  /** Responses keep failing: the call cannot go on with the assistant. */
  private readonly giveUp = (reason: string): void => this.ending.fail(reason);
}
