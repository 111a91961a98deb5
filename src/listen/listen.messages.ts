import { isBase64, isObject, isString } from '../text/json-guards.js';

/** What a listen client may send. */
export type ListenClientMessage =
  | { event: 'takeover' }
  | { event: 'media'; payload: string }
  | { event: 'handback'; note?: string };

export type ParsedListenMessage =
  { ok: true; message: ListenClientMessage } | { ok: false; reason: string };

/** A listen client's text frame, checked: anything else is ignored with a reason. */
export function parseListenMessage(text: string): ParsedListenMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!isObject(value)) return { ok: false, reason: 'not a JSON object' };
  switch (value.event) {
    case 'takeover':
      return { ok: true, message: { event: 'takeover' } };
    case 'media': {
      const { payload } = value;
      if (!isString(payload) || payload.length === 0 || !isBase64(payload)) {
        return { ok: false, reason: 'media without a base64 payload' };
      }
      return { ok: true, message: { event: 'media', payload } };
    }
    case 'handback': {
      const { note } = value;
      if (note !== undefined && note !== null && !isString(note)) {
        return { ok: false, reason: 'handback note is not text' };
      }
      return { ok: true, message: { event: 'handback', note: isString(note) ? note : undefined } };
    }
    default:
      return { ok: false, reason: 'unknown event' };
  }
}

export type ListenTrack = 'caller' | 'assistant';

/** Who has the call's line when a listener joins: a late joiner must not offer Take over. */
export type ListenLine = 'assistant' | 'operator';

/** Server-to-client frames, written once here. */
export const listenOutbound = {
  start: (callSid: string, line: ListenLine): string =>
    JSON.stringify({
      event: 'start',
      callSid,
      encoding: 'audio/x-mulaw',
      sampleRate: 8000,
      tracks: ['caller', 'assistant'],
      line,
    }),
  /** Written as a string: two of these go out every 20 ms per listener. */
  media: (track: ListenTrack, timestamp: number, mulaw: Buffer): string =>
    listenOutbound.mediaBase64(track, Math.max(0, Math.round(timestamp)), mulaw.toString('base64')),
  /** The same frame from its parts as the listen relay carries them (base64 already). */
  mediaBase64: (track: ListenTrack, timestamp: number, payload: string): string =>
    `{"event":"media","track":"${track}","timestamp":${timestamp},"payload":"${payload}"}`,
  ack: (event: 'takeover' | 'handback'): string => JSON.stringify({ event, ok: true }),
  refused: (event: 'takeover' | 'handback', reason: string): string =>
    JSON.stringify({ event, ok: false, reason }),
  stop: (): string => '{"event":"stop"}',
};
