import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { z } from 'zod';
import { callControlConfig, openaiConfig } from '../config/config.namespaces.js';
import type { CallControlConfig, OpenAIConfig } from '../config/config.namespaces.js';
import { CallControlService } from '../call-control/call-control.service.js';
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
    private readonly control: CallControlService,
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
          parameters: z.object({
            reason: z.string().optional().describe('Why the call ends, in a few words'),
          }),
        },
        ({ reason }, call) => {
          call.end(`end_call: ${reason || 'the assistant ended the call'}`);
          return { ok: true, next: 'Say a short goodbye now; the call ends after it.' };
        },
        'the bridge',
        { announcesEnding: true },
      );
    }
    // None configured: transfers are off, and the model is not offered the tool at all.
    const numbers = this.control.transferNumbers();
    // Media calls transfer through Twilio's REST API, SIP calls through OpenAI's (REFER).
    const canTransfer = this.twilioRest.available || this.openai.webhookSecret !== undefined;
    if (this.cfg.transferTool && numbers.length > 0 && canTransfer) {
      // The model may only choose from the configured numbers; with one, it need not choose.
      const number = z.enum(numbers).describe('Where to transfer');
      this.registry.register(
        {
          name: 'transfer_call',
          description:
            'Transfer the caller to a human. Use it when the caller asks for a person or you cannot ' +
            'help. After calling it, tell the caller in one short sentence that you are transferring them.',
          parameters: z.object({ number: numbers.length > 1 ? number : number.optional() }),
        },
        async (args, call) => {
          // The same service as the API's and the console's, with the same rules; the handover
          // sentence first, as the console's transfer.
          const to = args.number ?? numbers[0];
          const result = await this.control.transfer(call.callSid, to, { announce: true });
          if (!result.ok) return { ok: false, error: result.reason };
          return {
            ok: true,
            next: 'Tell the caller in one short sentence that you are transferring them now.',
          };
        },
        'the bridge',
        { announcesEnding: true },
      );
    }
  }
}
