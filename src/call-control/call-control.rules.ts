import { MAX_SAY_CHARS } from '../call/call-context.js';
import {
  controlFailure,
  type ControlCommand,
  type ControlResult,
} from '../directory/call-directory.js';
import type { CallControlConfig } from '../config/config.namespaces.js';
import { TRANSFER_TARGET, TRANSFER_TARGET_FORMAT } from '../config/transfer-targets.js';
import { isSipCallId } from '../sip-call/sip.constants.js';
import { isCallSid } from '../twilio/sids.js';

/**
 * The rules of call control, in one place: the instance asked checks them before it routes a
 * command, and the owner of the call checks them again before it acts, because a command may
 * reach it over the cluster bus, which is never trusted to have checked anything.
 */

/** The reason of every transfer refused because none is configured (TRANSFER_* unset). */
export const NO_TRANSFER_NUMBER = 'no transfer number configured';

export type TransferConfig = Pick<CallControlConfig, 'transferNumber' | 'transferAllowedNumbers'>;

/** TRANSFER_NUMBER first, then TRANSFER_ALLOWED_NUMBERS, each once (in their normal form). */
export function allowedTransferNumbers(cfg: TransferConfig): string[] {
  const targets = [cfg.transferNumber, ...cfg.transferAllowedNumbers];
  const seen = new Set<string>();
  return targets.filter((target): target is string => {
    if (!target || seen.has(normalTarget(target))) return false;
    seen.add(normalTarget(target));
    return true;
  });
}

/** A media call's id (Twilio CallSid) or a SIP call's (OpenAI's `rtc_...`). */
export function isCallId(id: string): boolean {
  return isCallSid(id) || isSipCallId(id);
}

/**
 * The form two targets are compared in, so that the list matches every way of writing one:
 * - `+15551234567` and `tel:+15551234567` are the same number; in a `tel:` URI the visual
 *   separators `-`, `.`, `(` and `)` are ignored and its parameters compared case-insensitively
 *   (RFC 3966 section 4);
 * - in a `sip:`/`sips:` URI the scheme and the host (with its port) are case-insensitive, the user
 *   part and the parameters are compared exactly (RFC 3261 section 19.1.4 leaves user parts
 *   case-sensitive; comparing parameters exactly can only refuse more). `sip:` and `sips:` are
 *   different targets (one promises TLS), and a SIP URI never equals a phone number.
 */
export function normalTarget(target: string): string {
  const value = target.trim();
  if (value.startsWith('+')) return `tel:${value}`;
  const colon = value.indexOf(':');
  const scheme = value.slice(0, colon).toLowerCase();
  const rest = value.slice(colon + 1);
  if (scheme === 'tel') {
    const [number, ...params] = rest.split(';');
    const digits = number.replace(/[-.()]/g, '');
    return ['tel:' + digits, ...params.map((p) => p.toLowerCase())].join(';');
  }
  const at = rest.indexOf('@');
  const user = at >= 0 ? rest.slice(0, at + 1) : '';
  const hostAndMore = rest.slice(at + 1);
  const hostEnd = hostAndMore.search(/[;?]/);
  const host = hostEnd >= 0 ? hostAndMore.slice(0, hostEnd) : hostAndMore;
  const more = hostEnd >= 0 ? hostAndMore.slice(hostEnd) : '';
  return `${scheme}:${user}${host.toLowerCase()}${more}`;
}

/**
 * The number `<Dial>` takes for a media call: `+E.164` as it is, a `tel:` URI's global number
 * without parameters; undefined for anything else (a SIP URI, a `tel:` with parameters).
 */
export function dialNumber(target: string): string | undefined {
  const normal = normalTarget(target);
  const number = normal.slice('tel:'.length);
  return normal.startsWith('tel:') && /^\+[1-9][0-9]{6,14}$/.test(number) ? number : undefined;
}

/**
 * Why `to` may not be a transfer destination, or undefined if it may: transfers are off unless
 * TRANSFER_NUMBER or TRANSFER_ALLOWED_NUMBERS is set (a leaked API token must not route calls to
 * any number it likes); then only a well-formed target that is one of those.
 */
export function transferRefusal(to: string, cfg: TransferConfig): ControlResult | undefined {
  const allowed = allowedTransferNumbers(cfg);
  if (allowed.length === 0) return controlFailure('refused', NO_TRANSFER_NUMBER);
  if (!TRANSFER_TARGET.test(to)) return controlFailure('invalid_target', TRANSFER_TARGET_FORMAT);
  const wanted = normalTarget(to);
  if (!allowed.some((target) => normalTarget(target) === wanted)) {
    return controlFailure('invalid_target', `transfers may only go to ${allowed.join(', ')}`);
  }
  return undefined;
}

/** Why `command` may not run on `callSid`, or undefined. */
export function commandRefusal(
  callSid: string,
  command: ControlCommand,
  cfg: TransferConfig,
): ControlResult | undefined {
  if (!isCallId(callSid)) {
    return controlFailure(
      'malformed_id',
      'not a call id (a Twilio CallSid CA + 32 hex, or rtc_...)',
    );
  }
  switch (command.action) {
    case 'transfer':
      return transferRefusal(command.number, cfg);
    case 'say':
      return command.text.trim() && command.text.length <= MAX_SAY_CHARS
        ? undefined
        : controlFailure('invalid_text', `a sentence of 1 to ${MAX_SAY_CHARS} characters`);
    case 'hangup':
    case 'end':
      return undefined;
  }
}
