import type { RecordingSummary } from './call-recording.js';

/**
 * The internal events between recordings and history (the bridge's own CallEventBus; never public
 * call events, never on SSE or webhooks).
 */
/** A recording is complete (and stored, or failed): `RecordingSavedEvent`. */
export const RECORDING_SAVED = 'recording.saved';
/** Retention deleted a call's recording: `{ callSid }`. */
export const RECORDING_EXPIRED = 'recording.expired';
/** History erased a call (an erasure request): `{ callSid }`; the listener deletes the audio. */
export const HISTORY_ERASED = 'history.erased';

export interface RecordingSavedEvent {
  callSid: string;
  recording: RecordingSummary;
}
