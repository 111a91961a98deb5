import { Inject, Injectable, Scope } from '@nestjs/common';
import { realtimeOutbound } from '../realtime/realtime-outbound.js';
import { CallRecorder } from './call-recorder.js';
import { CallScope } from './call-scope.js';
import { CALL_CHANNEL, type CallChannel } from './call-transport.js';
import { ResponseScheduler } from './response-scheduler.js';
import type { ToolCallResult, ToolCallSink } from './tool-calls.js';

/**
 * Where a call's settled tool calls go, the same on both transports: each output to the record
 * and back to the model on the call's channel, then one request for the model to go on. A tool
 * settles whenever its handler does, so each runs in the call's scope: a throw there ends this
 * call only. A per-call provider (the ToolCallCoordinator's sink).
 */
@Injectable({ scope: Scope.REQUEST })
export class ToolOutputs implements ToolCallSink {
  constructor(
    private readonly recorder: CallRecorder,
    private readonly scheduler: ResponseScheduler,
    @Inject(CALL_CHANNEL) private readonly channel: CallChannel,
    private readonly scope: CallScope,
  ) {}

  sendOutput(result: ToolCallResult): void {
    this.scope.run(this.send, result);
  }

  continueResponse(): void {
    this.scope.run(this.continue);
  }

  private readonly send = (result: ToolCallResult): void => {
    const { call_id: callId } = result.call;
    const id = this.recorder.memory.toolOutput(callId, result.output);
    this.channel.send(realtimeOutbound.functionCallOutput(callId, result.output, id));
    this.recorder.tool(result);
  };

  private readonly continue = (): void => {
    this.scheduler.request({ reason: 'tool output' });
  };
}
