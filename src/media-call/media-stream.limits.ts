/** Twilio frames are ~300 bytes; a frame over this is refused (the socket closes with 1009). */
export const MAX_FRAME_BYTES = 64 * 1024;

/*
 * The budget of a socket that has not yet sent a valid `start`. Twilio sends `connected` and
 * `start` and nothing else before it, so a stranger's junk costs us at most this much reading
 * before the socket is destroyed. A `start` is about 1 KiB with our parameters, and under 16 KiB
 * with the largest an outbound call may add (MAX_OUTBOUND_PARAMETERS_BYTES) and the longest
 * values our TwiML writes (test/extensions.e2e-spec.ts places that call). ws's maxPayload is one setting for
 * the whole server, so it stays at MAX_FRAME_BYTES (a started call needs it) and the smaller
 * limit is checked by each frame's length as it arrives: ws may read one frame of up to 64 KiB
 * before that check destroys the socket.
 */
/** Frames before a valid `start` (Twilio needs 2). */
export const MAX_FRAMES_BEFORE_START = 4;
/** Bytes in all before a valid `start`. */
export const MAX_BYTES_BEFORE_START = 32 * 1024;
/** One frame before a valid `start`. */
export const MAX_FRAME_BYTES_BEFORE_START = 16 * 1024;

/**
 * How long an upgrade without X-Twilio-Signature may wait for its `start` (a signed one waits
 * STREAM_START_TIMEOUT_MS): Twilio sends `start` within milliseconds, and an unsigned socket is
 * the cheaper one for a stranger to open. Never longer than STREAM_START_TIMEOUT_MS.
 */
export const UNSIGNED_START_TIMEOUT_MS = 2000;

/** The wait for a valid `start`: STREAM_START_TIMEOUT_MS, or less for an unsigned upgrade. */
export function startTimeoutMs(signed: boolean, streamStartTimeoutMs: number): number {
  return signed ? streamStartTimeoutMs : Math.min(UNSIGNED_START_TIMEOUT_MS, streamStartTimeoutMs);
}

/** Larger than any frame Twilio sends once a call has started (media, mark, dtmf, stop). */
export const LARGE_FRAME_BYTES = 4096;
/** Large frames that fail to parse (or are binary) a started call takes before it ends. */
export const MAX_LARGE_DROPS_PER_CALL = 100;
