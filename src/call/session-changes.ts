import { Inject, Injectable, Scope } from '@nestjs/common';
import { realtimeOutbound, sayExactlyInstructions } from '../realtime/realtime-outbound.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import type { CallSessionUpdate } from './call-context.js';
import { CallEnding } from './call-ending.js';
import { CallLogger } from './call-logger.js';
import { CALL_SETTINGS } from './call-providers.js';
import type { CallSettings } from './call-settings.service.js';
import { CALL_CHANNEL, type CallChannel } from './call-transport.js';
import { ResponseScheduler } from './response-scheduler.js';
import { ToolCallCoordinator } from './tool-calls.js';
import { OperatorLine } from '../media-call/operator-line.js';

/**
 * What an application's code changes during a call (`CallContext.updateSession` and `say`), the
 * same on both transports: the change goes out on the call's channel (the media session, or the
 * SIP sideband), and a sentence is a response of its own through the scheduler. A per-call
 * provider.
 */
@Injectable({ scope: Scope.REQUEST })
export class SessionChanges {
  constructor(
    @Inject(CALL_CHANNEL) private readonly channel: CallChannel,
    private readonly tools: ToolRegistry,
    private readonly toolCalls: ToolCallCoordinator,
    private readonly scheduler: ResponseScheduler,
    private readonly ending: CallEnding,
    private readonly log: CallLogger,
    /** An operator holding the line keeps the model's own answers off whatever is changed. */
    private readonly line: OperatorLine,
    /** The call's settings, as the call goes on: `update` changes them, a new session gets them. */
    @Inject(CALL_SETTINGS) private readonly settings: CallSettings,
  ) {}

  /**
   * `CallContext.updateSession`: one `session.update` with the fields given. They are kept in
   * the call's settings too, so a media session opened after a reconnect is configured with
   * them. While no session is open nothing is sent: the next one gets them from the settings.
   */
  update(update: CallSessionUpdate): void {
    if (update.tools !== undefined) this.toolCalls.offer(update.tools); // throws on an unknown name
    const { instructions, tools, turnDetection } = update;
    if (instructions !== undefined) this.settings.instructions = instructions;
    if (tools !== undefined) this.settings.tools = tools;
    if (turnDetection !== undefined) this.settings.turnDetection = turnDetection;
    this.channel.send(
      realtimeOutbound.sessionChange({
        instructions,
        turnDetection:
          turnDetection === undefined ? undefined : this.line.turnDetection(turnDetection),
        tools: tools && this.tools.sessionTools(tools),
      }),
    );
    this.log.log(`session updated (${Object.keys(update).join(', ')})`);
  }

  /**
   * `CallContext.say`: the sentence is the next response, once none is active. Once the call is
   * wrapping up (goodbye, handover) the last sentence is the goodbye: nothing is said after it.
   */
  say(text: string): void {
    if (this.ending.isWrappingUp) {
      this.log.warn('say() while the call is ending: not said');
      return;
    }
    this.scheduler.request({
      reason: 'say',
      params: { instructions: sayExactlyInstructions(text) },
    });
  }
}
