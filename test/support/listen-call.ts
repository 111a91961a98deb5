import { mulawTone } from './audio.js';
import type { FakeRealtimeConnection } from './fake-realtime-server.js';
import type { FakeTwilioCall } from './fake-twilio.js';

/** 20 ms of mu-law silence. */
export const SILENCE = Buffer.alloc(160, 0xff);

/** Twilio's caller frames every 20 ms, as a real call sends them, until stopped. */
export function pumpCaller(call: FakeTwilioCall, frame: () => Buffer = () => SILENCE): () => void {
  const timer = setInterval(() => call.sendMedia(frame()), 20);
  return () => clearInterval(timer);
}

/** The model answers with `ms` of a tone, in deltas of 200 ms, all at once (as it bursts). */
export function modelSpeaks(
  openai: FakeRealtimeConnection,
  responseId: string,
  itemId: string,
  ms: number,
): Buffer {
  openai.send({
    type: 'response.created',
    response: { id: responseId, status: 'in_progress', output: [], metadata: null },
  });
  const audio = mulawTone(440, ms);
  for (let offset = 0; offset < audio.length; offset += 1600) {
    openai.audioDelta(responseId, itemId, audio.subarray(offset, offset + 1600));
  }
  return audio;
}

/** The `media` frames the fake caller got from the bridge after the `index`th frame. */
export const mediaAfter = (call: FakeTwilioCall, index: number) =>
  call.received.slice(index).filter((frame) => frame.event === 'media');
