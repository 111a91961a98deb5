import { optionalText } from './env.parsers.js';

/**
 * Where a call may be transferred to: `+E.164`, or a `tel:`, `sip:` or `sips:` URI. The one
 * format of the call-control API, the console, the transfer_call tool, the cluster bus, and of
 * TRANSFER_NUMBER / TRANSFER_ALLOWED_NUMBERS (so every configured target can be asked for).
 */
export const TRANSFER_TARGET = /^\+[1-9][0-9]{6,14}$|^(sips?|tel):[^\s<>"]{1,200}$/i;

export const TRANSFER_TARGET_FORMAT =
  'expected an E.164 number such as +15551234567, or a tel:, sip: or sips: URI';

/** TRANSFER_NUMBER: one target. */
export const transferNumberEnv = optionalText.refine(
  (value) => value === undefined || TRANSFER_TARGET.test(value),
  { message: TRANSFER_TARGET_FORMAT },
);

/** TRANSFER_ALLOWED_NUMBERS: comma-separated targets, each problem named. */
export const transferListEnv = optionalText.transform((value, ctx) => {
  const targets =
    value
      ?.split(',')
      .map((n) => n.trim())
      .filter(Boolean) ?? [];
  for (const target of targets) {
    if (!TRANSFER_TARGET.test(target)) {
      ctx.addIssue({ code: 'custom', message: `"${target}": ${TRANSFER_TARGET_FORMAT}` });
    }
  }
  return targets;
});
