import { Injectable, type OnModuleInit } from '@nestjs/common';
import { CallRegistry } from '../call/call-registry.service.js';
import {
  CallDirectory,
  type ControlCommand,
  type ControlResult,
} from '../cluster/call-directory.js';
import { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';

/**
 * What this instance does when asked (by its own API, or by another instance through the
 * CallDirectory) to act on a call whose sockets it holds. Only the owner runs this, so a
 * hang-up's REST request is made once, whichever instance the operator asked.
 */
@Injectable()
export class CallControlHandler implements OnModuleInit {
  constructor(
    private readonly directory: CallDirectory,
    private readonly registry: CallRegistry,
    private readonly twilioRest: TwilioRestService,
  ) {}

  onModuleInit(): void {
    this.directory.onControl((callSid, command) => this.run(callSid, command));
  }

  async run(callSid: string, command: ControlCommand): Promise<ControlResult> {
    const session = this.registry.get(callSid);
    if (!session) return { status: 404, body: { message: `no active call ${callSid}` } };
    switch (command.action) {
      case 'hangup':
        if (this.twilioRest.available) {
          await this.twilioRest.hangUp(session.context.accountSid, callSid);
        }
        session.close('hung up through the API');
        return { status: 200, body: { callSid, status: 'completed' } };
      case 'transfer':
        if (!this.twilioRest.available) {
          return { status: 503, body: { message: 'transfers need TWILIO_AUTH_TOKEN' } };
        }
        session.context.transfer(command.number);
        return { status: 200, body: { callSid, status: 'transferring', to: command.number } };
      case 'end':
        session.context.end(command.reason);
        return { status: 200, body: { callSid, status: 'ending' } };
    }
  }
}
