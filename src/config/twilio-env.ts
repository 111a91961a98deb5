import { optionalText } from './env.parsers.js';
import { isAccountSid } from '../twilio/sids.js';

/**
 * TWILIO_ACCOUNT_SID: every stream's start.accountSid must equal it, so a wrong value (an API
 * key SID, the auth token pasted there) would refuse every call. Never echoed: it may be a secret.
 */
export const accountSid = optionalText.superRefine((value, ctx) => {
  if (value === undefined) return;
  // Read before isAccountSid, whose guard leaves nothing for a string it refuses.
  const what = value.startsWith('SK') ? 'an API key SID (SK...), not the account SID: ' : '';
  if (isAccountSid(value)) return;
  ctx.addIssue({
    code: 'custom',
    message: `${what}expected AC followed by 32 lowercase hex digits (Twilio Console > Account info)`,
  });
});
