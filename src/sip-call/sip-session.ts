import type { CallAcceptParams } from 'openai/resources/realtime/calls';
import type { RealtimeSessionCreateRequest } from 'openai/resources/realtime/realtime';
import type { CallSessionUpdate } from '../call/call-context.js';

/**
 * `turn_detection` fields the SIP path refuses though the WebSocket path takes them (OpenAI's
 * Agents SDK checks the same three before it accepts a SIP call): the SIP session is built
 * without them.
 */
export const SIP_UNSUPPORTED_TURN_DETECTION_FIELDS = [
  'threshold',
  'prefix_padding_ms',
  'silence_duration_ms',
] as const;

/**
 * The session to `accept` a SIP call with, derived from the session the media path would run
 * for the same resolved settings (`OpenAIRealtimeService.session`), so one set of settings
 * configures both transports. Two differences: no audio `format` (the SIP leg negotiates its
 * codec with the carrier; the media path's formats describe audio the bridge itself sends and
 * receives), and no turn-detection tuning the SIP path rejects. The input is not modified.
 */
export function sipAcceptSession(mediaSession: RealtimeSessionCreateRequest): CallAcceptParams {
  const session = structuredClone(mediaSession);
  const { input, output } = session.audio ?? {};
  delete input?.format;
  delete output?.format;
  if (input?.turn_detection) input.turn_detection = withoutRefusedTuning(input.turn_detection);
  return session;
}

/**
 * `CallContext.updateSession` on a SIP call: the same change, with a turn detection the SIP path
 * takes (as at accept). The input is not modified.
 */
export function sipSessionUpdate(update: CallSessionUpdate): CallSessionUpdate {
  const { turnDetection } = update;
  if (!turnDetection) return update;
  return { ...update, turnDetection: withoutRefusedTuning(turnDetection) };
}

function withoutRefusedTuning<T extends object>(turnDetection: T): T {
  const kept = { ...turnDetection } as Record<string, unknown>;
  for (const field of SIP_UNSUPPORTED_TURN_DETECTION_FIELDS) delete kept[field];
  return kept as T;
}
