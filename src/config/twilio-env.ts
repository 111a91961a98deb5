import { optionalText, url } from './env.parsers.js';
import { MEDIA_STREAM_PATH, STREAM_STATUS_PATH, TWIML_PATH } from '../twilio/public-url.js';
import { isAccountSid } from '../twilio/sids.js';

// What Twilio is told, checked at start: a mistake here would start cleanly, then refuse calls.

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

/** The bridge's own routes that Twilio is given: the bridge appends them to PUBLIC_URL itself. */
const TWILIO_ROUTES = [TWIML_PATH, MEDIA_STREAM_PATH, STREAM_STATUS_PATH];

/**
 * PUBLIC_URL: the base URL; its path is a proxy's prefix (https://example.com/voice). One that
 * ends in a route of the bridge's is the webhook URL pasted whole: every signature would be
 * checked against .../api/twiml/api/twiml and every webhook refused.
 */
export const publicUrl = url(['http', 'https']).superRefine((value, ctx) => {
  if (value === undefined) return;
  if (/[?#]/.test(value)) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be scheme://host[:port][/path] without ? or # (a path is kept as a prefix)',
    });
    return;
  }
  const route = TWILIO_ROUTES.find((path) => value.toLowerCase().endsWith(path));
  if (route) {
    ctx.addIssue({
      code: 'custom',
      message:
        `ends in ${route}, the bridge's own route: give the base URL, ` +
        `${value.slice(0, -route.length)} (the bridge adds ${route} itself)`,
    });
  }
});
