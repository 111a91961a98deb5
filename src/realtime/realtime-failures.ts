import type { RealtimeErrorDetail } from './realtime.events.js';
import type { RealtimeCloseInfo } from './realtime-connection.js';

export type ConnectFailureKind = 'credential' | 'auth' | 'retryable' | 'permanent';

/**
 * What a failed connection attempt means. No credential to send (an Entra ID token the
 * credential could not give, after its own retries) and a refused one (401/403) will not get
 * better by retrying, unless the refused one was an Entra ID token that has been dropped for a
 * new one; network errors, timeouts, 429 and 5xx usually do.
 */
export function classifyConnectFailure(info: RealtimeCloseInfo): ConnectFailureKind {
  if (info.credentialError !== undefined) return 'credential';
  // A refused Entra ID token was dropped: the next attempt carries a new one.
  if (info.credentialRenewed) return 'retryable';
  const status = info.httpStatus;
  if (status === 401 || status === 403) return 'auth';
  if (status === undefined || status === 429 || status >= 500) return 'retryable';
  return 'permanent';
}

export type RealtimeErrorAction = 'ignore' | 'reconnect' | 'fail';

/** Codes after which the session cannot go on; everything else is logged and lived with. */
const SESSION_ENDING_CODES = new Set(['session_expired']);
const CALL_ENDING_CODES = new Set([
  'invalid_api_key',
  'insufficient_quota',
  'beta_api_shape_disabled',
  'model_not_found',
]);

/**
 * What an `error` event means for the call. `session_expired` (the 60-minute limit) needs a new
 * session; a refused key or quota ends the call; a rejected `session.update` field means the
 * session runs with the wrong audio format, so it ends the call too. Everything else (a late
 * truncate, `conversation_already_has_active_response`, ...) leaves the session usable.
 */
export function actionForRealtimeError(error: RealtimeErrorDetail): RealtimeErrorAction {
  if (error.code && SESSION_ENDING_CODES.has(error.code)) return 'reconnect';
  if (error.code && CALL_ENDING_CODES.has(error.code)) return 'fail';
  if (error.param?.startsWith('session.')) return 'fail';
  return 'ignore';
}
