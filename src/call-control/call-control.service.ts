import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { CallRegistry, CallStateRefusal, type LiveCall } from '../call/call-registry.service.js';
import {
  CallDirectory,
  controlFailure,
  type ControlCommand,
  type ControlOutcome,
  type ControlResult,
} from '../directory/call-directory.js';
import { callControlConfig, type CallControlConfig } from '../config/config.namespaces.js';
import { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';
import { transferTwiml } from '../twilio/twiml.js';
import { allowedTransferNumbers, commandRefusal, dialNumber } from './call-control.rules.js';

/**
 * Acting on a live call: hang up, transfer, say (and, later, take over). Every surface asks here
 * (the REST API, the console, and other instances through the CallDirectory), and every answer
 * is a domain result that each controller maps the same way (control-response.ts).
 *
 * Two halves: `hangUp`/`transfer`/`say` check a command and route it to the call's owner,
 * whichever instance that is; `execute` is what the owner runs, registered with the directory.
 * Only the owner acts, so a hang-up's REST request is made once, whichever instance was asked,
 * and it checks the command again: one from another instance came over the cluster bus, and
 * nothing on the bus is taken as already checked.
 */
@Injectable()
export class CallControlService implements OnModuleInit {
  constructor(
    private readonly directory: CallDirectory,
    private readonly registry: CallRegistry,
    private readonly twilioRest: TwilioRestService,
    @Inject(callControlConfig.KEY) private readonly cfg: CallControlConfig,
  ) {}

  onModuleInit(): void {
    this.directory.onControl((callSid, command) => this.execute(callSid, command));
  }

  /** Where calls may be transferred to (TRANSFER_NUMBER first); none: transfers are off. */
  transferNumbers(): string[] {
    return allowedTransferNumbers(this.cfg);
  }

  hangUp(callSid: string): Promise<ControlResult> {
    return this.request(callSid, { action: 'hangup' });
  }

  /**
   * Transfers a call to an allowed target: at once (the API), or after a short handover
   * sentence (`announce`, the console).
   */
  transfer(
    callSid: string,
    to: string,
    options: { announce?: boolean } = {},
  ): Promise<ControlResult> {
    const command: ControlCommand = { action: 'transfer', number: to };
    if (options.announce) command.announce = true;
    return this.request(callSid, command);
  }

  /** Has the assistant say `text` as its next response. */
  say(callSid: string, text: string): Promise<ControlResult> {
    return this.request(callSid, { action: 'say', text });
  }

  /** The owner's part: runs `command` on a call whose sockets this instance holds. */
  async execute(callSid: string, command: ControlCommand): Promise<ControlResult> {
    const refusal = commandRefusal(callSid, command, this.cfg);
    if (refusal) return refusal;
    const session = this.registry.get(callSid);
    if (!session) return controlFailure('unknown_call', `no active call ${callSid}`);
    switch (command.action) {
      case 'hangup':
        return this.hangUpHere(callSid, session);
      case 'transfer':
        return this.transferHere(callSid, session, command.number, command.announce === true);
      case 'say':
        return asked(() => session.context.say(command.text), 'saying');
      case 'end':
        return asked(() => session.context.end(command.reason), 'ending');
    }
  }

  /** Checks `command` as the owner will, then runs it where the call lives. */
  private async request(callSid: string, command: ControlCommand): Promise<ControlResult> {
    // Checked here too for a clear answer before any routing (the owner checks again).
    return commandRefusal(callSid, command, this.cfg) ?? this.directory.control(callSid, command);
  }

  private async hangUpHere(callSid: string, session: LiveCall): Promise<ControlResult> {
    if (session.hangUpNow) {
      // A SIP call: hung up through OpenAI's calls API, which owns its line.
      const failed = await carrier(() => session.hangUpNow!('hung up through the API'));
      if (failed) return failed;
    } else if (this.twilioRest.available) {
      const { accountSid } = session.context;
      const failed = await carrier(() => this.twilioRest.hangUp(accountSid, callSid));
      if (failed) return failed;
    }
    session.close('hung up through the API');
    return { ok: true, status: 'completed' };
  }

  /** A SIP call through OpenAI's REFER, a media call by redirecting it to `<Dial>`. */
  private async transferHere(
    callSid: string,
    session: LiveCall,
    to: string,
    announce: boolean,
  ): Promise<ControlResult> {
    const sip = session.transferNow !== undefined;
    const target = sip ? to : dialNumber(to);
    if (target === undefined) {
      return controlFailure('invalid_target', 'a media call transfers to a phone number (<Dial>)');
    }
    if (!sip && !this.twilioRest.available) {
      return controlFailure('unavailable', 'transfers of media calls need TWILIO_AUTH_TOKEN');
    }
    if (announce) {
      // The assistant says a handover sentence first; the call ending does the rest.
      const result = asked(() => session.context.transfer(target), 'transferring');
      return result.ok ? { ...result, to } : result;
    }
    if (sip) {
      const failed = await carrier(() => session.transferNow!(target));
      return failed ?? { ok: true, status: 'transferred', to };
    }
    const { accountSid } = session.context;
    const twiml = transferTwiml(target);
    const failed = await carrier(() => this.twilioRest.redirect(accountSid, callSid, twiml));
    if (failed) return failed;
    session.close(`transferred to ${target} through the API`, 'log', 'transferred');
    return { ok: true, status: 'transferred', to };
  }
}

/** Asks the call itself; it may refuse for the state it is in (an operator holds the line). */
function asked(request: () => void, status: ControlOutcome): ControlResult {
  try {
    request();
    return { ok: true, status };
  } catch (error) {
    const refused = refusalOf(error);
    if (refused) return refused;
    throw error;
  }
}

/** The call's own refusal (for the state it is in) as a control result; anything else is not. */
function refusalOf(error: unknown): ControlResult | undefined {
  if (error instanceof CallStateRefusal) return controlFailure(error.error, error.message);
  return undefined;
}

/**
 * A request to the carrier's API of a call; its failure is the carrier's, not ours, unless the
 * call itself refused it for the state it is in.
 */
async function carrier(request: () => Promise<void>): Promise<ControlResult | undefined> {
  try {
    await request();
    return undefined;
  } catch (error) {
    return (
      refusalOf(error) ??
      controlFailure('carrier_failed', `the carrier refused: ${(error as Error).message}`)
    );
  }
}
