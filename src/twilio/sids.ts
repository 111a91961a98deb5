/**
 * Twilio SIDs are a two-letter prefix and 32 lowercase hex digits. Checked strictly before a
 * stream token is signed: Twilio signs a webhook's keys and values concatenated, so a captured
 * request can be re-split (`CallSid=CA1` + `CallStatus=ringing` -> `CallSid=CA1CallStatusringing`)
 * with the same signature; a re-split value is never a valid SID.
 */
const CALL_SID = /^CA[0-9a-f]{32}$/;
const ACCOUNT_SID = /^AC[0-9a-f]{32}$/;
/** The longest SID; checked before the regex so no regex ever runs on unbounded input. */
const SID_LENGTH = 34;

export function isCallSid(value: unknown): value is string {
  return typeof value === 'string' && value.length === SID_LENGTH && CALL_SID.test(value);
}

export function isAccountSid(value: unknown): value is string {
  return typeof value === 'string' && value.length === SID_LENGTH && ACCOUNT_SID.test(value);
}
