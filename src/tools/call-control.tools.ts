import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { CallContext } from '../call/call-context.js';
import { callControlConfig, openaiConfig } from '../config/config.namespaces.js';
import type { CallControlConfig, OpenAIConfig } from '../config/config.namespaces.js';
import { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';
import { ToolRegistry } from './tool-registry.service.js';

/**
 * The bridge's own tools: `end_call` and `transfer_call`. Registered in code rather than with
 * `@RealtimeTool` because each depends on configuration (END_CALL_TOOL, TRANSFER_TOOL, a
 * transfer number) and on the REST API being usable.
 */
@Injectable()
export class CallControlTools implements OnModuleInit {
  constructor(
    private readonly registry: ToolRegistry,
    private readonly twilioRest: TwilioRestService,
    @Inject(callControlConfig.KEY) private readonly cfg: CallControlConfig,
    @Inject(openaiConfig.KEY) private readonly openai: OpenAIConfig,
  ) {}

  onModuleInit(): void {
    if (this.cfg.endCallTool) {
      this.registry.register(
        {
          name: 'end_call',
          description:
            'End the phone call. Use it when the caller says goodbye or the conversation is over. ' +
            'After calling it, say a short goodbye: the line closes once it has been heard.',
          parameters: {
            type: 'object',
            properties: {
              reason: { type: 'string', description: 'Why the call ends, in a few words' },
            },
          },
        },
        (args, call) => this.endCall(args, call),
      );
    }
    const numbers = this.transferNumbers();
    // Media calls transfer through Twilio's REST API, SIP calls through OpenAI's (REFER).
    const canTransfer = this.twilioRest.available || this.openai.webhookSecret !== undefined;
    if (this.cfg.transferTool && numbers.length > 0 && canTransfer) {
      this.registry.register(
        {
          name: 'transfer_call',
          description:
            'Transfer the caller to a human. Use it when the caller asks for a person or you cannot ' +
            'help. After calling it, tell the caller in one short sentence that you are transferring them.',
          parameters: {
            type: 'object',
            properties: {
              number: { type: 'string', enum: numbers, description: 'Where to transfer' },
            },
            required: numbers.length > 1 ? ['number'] : [],
          },
        },
        (args, call) => this.transferCall(args, call, numbers),
      );
    }
  }

  private endCall(args: Record<string, unknown>, call: CallContext): Record<string, unknown> {
    const reason =
      typeof args.reason === 'string' && args.reason ? args.reason : 'the assistant ended the call';
    call.end(`end_call: ${reason}`);
    return { ok: true, next: 'Say a short goodbye now; the call ends after it.' };
  }

  private transferCall(
    args: Record<string, unknown>,
    call: CallContext,
    numbers: string[],
  ): Record<string, unknown> {
    const number = typeof args.number === 'string' ? args.number : numbers[0];
    if (!numbers.includes(number))
      throw new Error(`transfers may only go to ${numbers.join(', ')}`);
    call.transfer(number);
    return {
      ok: true,
      next: 'Tell the caller in one short sentence that you are transferring them now.',
    };
  }

  /** TRANSFER_NUMBER first, then the allow-list. */
  private transferNumbers(): string[] {
    return [
      ...new Set(
        [this.cfg.transferNumber, ...this.cfg.transferAllowedNumbers].filter(
          (n): n is string => !!n,
        ),
      ),
    ];
  }
}
