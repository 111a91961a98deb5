import { ContextIdFactory } from '@nestjs/core';
import type WebSocket from 'ws';
import type { AudioCodecService } from '../audio/audio-codec.service.js';
import type { CallLogger } from '../call/call-logger.js';
import type { CallRecorder } from '../call/call-recorder.js';
import { CallStart } from '../call/call-start.js';
import { CallAudioTap } from '../call-audio/call-audio-tap.js';
import { CallAudioTaps } from '../call-audio/call-audio-taps.service.js';
import type { AudioConfig } from '../config/config.namespaces.js';
import { TwilioMediaLink } from './twilio-media-link.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const delta = (fill: number) => Buffer.alloc(160, fill).toString('base64'); // 20 ms

/**
 * A media link over a Twilio socket that has stopped reading (bufferedAmount past the high
 * water), with a recording-like listener on its tap: what the listener is told the caller
 * heard, and what Twilio was actually sent.
 */
function slowTwilio() {
  const sent: string[] = [];
  const socket = {
    readyState: 1,
    bufferedAmount: 10_000_000,
    send: (data: string) => sent.push(data),
    close: () => undefined,
  };
  const start = new CallStart(
    ContextIdFactory.create(),
    {
      callSid: 'CA00000000000000000000000000000001',
      streamSid: 'MZ00000000000000000000000000000001',
      accountSid: 'AC00000000000000000000000000000001',
      customParameters: {},
    },
    socket as unknown as WebSocket,
  );
  const tap = new CallAudioTap(start, new CallAudioTaps(), {
    warn: () => undefined,
  } as unknown as CallLogger);
  const link = new TwilioMediaLink(
    start,
    {} as AudioCodecService,
    { inputFormat: 'g711_ulaw' } as AudioConfig,
    { memory: { assistantHeard: () => undefined } } as unknown as CallRecorder,
    tap,
  );
  const heard: Buffer[] = [];
  tap.begin();
  tap.listen({ assistantAudio: (mulaw) => heard.push(Buffer.from(mulaw)) });
  const frames = () =>
    sent.map(
      (frame) =>
        JSON.parse(frame) as {
          event: string;
          media?: { payload: string };
          mark?: { name: string };
        },
    );
  const twilioGot = () =>
    Buffer.concat(
      frames()
        .filter((frame) => frame.event === 'media')
        .map((frame) => Buffer.from(frame.media!.payload, 'base64')),
    );
  return { socket, link, frames, heard: () => Buffer.concat(heard), twilioGot };
}

describe('TwilioMediaLink under backpressure', () => {
  let twilio: ReturnType<typeof slowTwilio>;
  beforeEach(() => (twilio = slowTwilio()));
  // Stops the bounded sender's flush timer, whatever the test did.
  afterEach(() => twilio.link.close());

  it('never tells listeners the caller heard audio the bounded sender dropped', async () => {
    // The model bursts 6 s in 20 ms deltas: the first 2 s are one sound, the rest another.
    for (let i = 0; i < 300; i++)
      twilio.link.play('resp_1', 'item_1', 0, delta(i < 100 ? 0x11 : 0x22));
    expect(twilio.link.droppedFrames).toBeGreaterThan(0);
    // Twilio reads again: what is left of the backlog goes out.
    twilio.socket.bufferedAmount = 0;
    await sleep(300);
    twilio.link.callerAudio({ payload: delta(0xff), timestamp: '0' });
    const got = twilio.twilioGot();
    // The oldest audio was dropped: Twilio never got the start of the answer ...
    expect(got.includes(0x11)).toBe(false);
    // ... and listeners hear what Twilio got, from its start (before: 100 ms of the dropped
    // audio, which the clock counted as queued at Twilio).
    const heard = twilio.heard();
    expect(heard.length).toBeGreaterThan(0);
    expect(heard.equals(got.subarray(0, heard.length))).toBe(true);
  });

  it('cuts a barge-in after a drop in the item’s own audio, past what was dropped', async () => {
    for (let i = 0; i < 300; i++) twilio.link.play('resp_1', 'item_1', 0, delta(0x22));
    // Twilio reads again and gets what is left: the rest of the 6 s was dropped.
    twilio.socket.bufferedAmount = 0;
    await sleep(50);
    const droppedMs = 6000 - twilio.twilioGot().length / 8;
    expect(droppedMs).toBeGreaterThan(0);
    const { cuts } = twilio.link.interrupt();
    // Nothing has echoed: the caller may have heard up to the first mark Twilio was sent (at
    // most 100 ms of what it got), which in the item comes after all that was dropped. Before,
    // the clock waited at the first mark, dropped with its audio: a cut 100 ms into the item.
    expect(cuts).toHaveLength(1);
    expect(cuts[0].audioEndMs).toBeGreaterThan(droppedMs);
    expect(cuts[0].audioEndMs).toBeLessThanOrEqual(droppedMs + 100);
  });
});
