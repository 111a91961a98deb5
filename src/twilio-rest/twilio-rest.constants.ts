/**
 * One Twilio REST request (a hang-up, a redirect) answers or fails within this: the client's own
 * timeout, and it does not retry. A call waits on these requests, and so does a control request
 * from another instance (CONTROL_ACTION_MAX_MS).
 */
export const TWILIO_REST_TIMEOUT_MS = 5000;
