import { z } from 'zod';
import type { ControlCommand } from '../cluster/call-directory.js';
import type { CallControlConfig } from '../config/config.namespaces.js';
import { isSipCallId } from '../sip/sip.constants.js';
import { isCallSid } from '../twilio/sids.js';

/**
 * The rules of call control, in one place: the API checks them before it routes a command, and
 * the owner of the call checks them again before it acts (CallControlHandler), because a command
 * may reach it over the cluster bus, which is never trusted to have checked anything.
 */

/** Where a call may be transferred to: `+E.164`, or a `sip:`/`sips:`/`tel:` URI. */
export const transferTarget = z
  .string()
  .regex(
    /^\+[1-9][0-9]{6,14}$|^(sips?|tel):[^\s<>"]{1,200}$/,
    'expected an E.164 number such as +15551234567, or a sip:/tel: URI',
  );

type TransferConfig = Pick<CallControlConfig, 'transferNumber' | 'transferAllowedNumbers'>;

/** TRANSFER_NUMBER first, then TRANSFER_ALLOWED_NUMBERS, each once. */
export function allowedTransferNumbers(cfg: TransferConfig): string[] {
  const numbers = [cfg.transferNumber, ...cfg.transferAllowedNumbers];
  return [...new Set(numbers.filter((n): n is string => !!n))];
}

/** A media call's id (Twilio CallSid) or a SIP call's (OpenAI's `rtc_...`). */
export function isCallId(id: string): boolean {
  return isCallSid(id) || isSipCallId(id);
}

/**
 * Why `to` may not be a transfer destination, or undefined if it may: a well-formed target and,
 * when TRANSFER_NUMBER or TRANSFER_ALLOWED_NUMBERS is set, one of those.
 */
export function transferRefusal(to: string, cfg: TransferConfig): string | undefined {
  const format = transferTarget.safeParse(to);
  if (!format.success) return format.error.issues[0].message;
  const allowed = allowedTransferNumbers(cfg);
  if (allowed.length > 0 && !allowed.includes(to)) {
    return `transfers may only go to ${allowed.join(', ')}`;
  }
  return undefined;
}

/** Why the owner must refuse `command` for `callSid` (a 400), or undefined. */
export function commandRefusal(
  callSid: string,
  command: ControlCommand,
  cfg: TransferConfig,
): string | undefined {
  if (!isCallId(callSid)) return 'not a call id (a Twilio CallSid CA + 32 hex, or rtc_...)';
  return command.action === 'transfer' ? transferRefusal(command.number, cfg) : undefined;
}
