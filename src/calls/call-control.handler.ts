import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { CallRegistry } from '../call/call-registry.service.js';
import {
  CallDirectory,
  type ControlCommand,
  type ControlResult,
} from '../cluster/call-directory.js';
import { callControlConfig, type CallControlConfig } from '../config/config.namespaces.js';
import { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';
import { transferTwiml } from '../twilio/twiml.js';
import { commandRefusal } from './call-control.rules.js';

/**
 * What this instance does when asked (by its own API, or by another instance through the
 * CallDirectory) to act on a call whose sockets it holds. Only the owner runs this, so a
 * hang-up's REST request is made once, whichever instance the operator asked. It checks the
 * command against the API's own rules first: a command from another instance came over the
 * cluster bus, and nothing on the bus is taken as already checked.
 */
@Injectable()
export class CallControlHandler implements OnModuleInit {
  constructor(
    private readonly directory: CallDirectory,
    private readonly registry: CallRegistry,
    private readonly twilioRest: TwilioRestService,
    @Inject(callControlConfig.KEY) private readonly cfg: CallControlConfig,
  ) {}

  onModuleInit(): void {
    this.directory.onControl((callSid, command) => this.run(callSid, command));
  }

  async run(callSid: string, command: ControlCommand): Promise<ControlResult> {
    const refusal = commandRefusal(callSid, command, this.cfg);
    if (refusal) return { status: 400, body: { message: refusal } };
    const session = this.registry.get(callSid);
    if (!session) return { status: 404, body: { message: `no active call ${callSid}` } };
    switch (command.action) {
      case 'hangup':
        if (session.hangUpNow) {
          // A SIP call: hung up through OpenAI's calls API, which owns its line.
          const failed = await carrier(() => session.hangUpNow!('hung up through the API'));
          if (failed) return failed;
        } else if (this.twilioRest.available) {
          await this.twilioRest.hangUp(session.context.accountSid, callSid);
        }
        session.close('hung up through the API');
        return { status: 200, body: { callSid, status: 'completed' } };
      case 'transfer': {
        // At once, without a handover sentence (the transfer_call tool has one): a SIP call
        // through OpenAI's REFER, a media call by redirecting it to <Dial>.
        const to = command.number;
        if (session.transferNow) {
          const failed = await carrier(() => session.transferNow!(to));
          if (failed) return failed;
          return { status: 200, body: { callSid, status: 'transferred', to } };
        }
        if (!this.twilioRest.available) {
          return {
            status: 503,
            body: { message: 'transfers of media calls need TWILIO_AUTH_TOKEN' },
          };
        }
        if (!to.startsWith('+')) {
          return {
            status: 400,
            body: { message: 'a media call transfers to an E.164 number (<Dial>)' },
          };
        }
        await this.twilioRest.redirect(session.context.accountSid, callSid, transferTwiml(to));
        session.close(`transferred to ${to} through the API`, 'log', 'transferred');
        return { status: 200, body: { callSid, status: 'transferred', to } };
      }
      case 'end':
        session.context.end(command.reason);
        return { status: 200, body: { callSid, status: 'ending' } };
    }
  }
}

/** A request to the carrier's API of a call; its failure is a 502 for the operator, not a 500. */
async function carrier(request: () => Promise<void>): Promise<ControlResult | undefined> {
  try {
    await request();
    return undefined;
  } catch (error) {
    return { status: 502, body: { message: `the carrier refused: ${(error as Error).message}` } };
  }
}
