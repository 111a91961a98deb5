import { CallStart } from '../call/call-start.js';
import type { CallLogger } from '../call/call-logger.js';
import { ContextIdFactory } from '@nestjs/core';
import { CallAudioTap } from './call-audio-tap.js';
import { CallAudioTaps } from './call-audio-taps.service.js';
import type { CallAudioListener } from './call-audio.js';

const b64 = (bytes: number, fill: number) => Buffer.alloc(bytes, fill).toString('base64');

function tapWith(taps = new CallAudioTaps()) {
  const warnings: string[] = [];
  const log = { warn: (msg: string) => warnings.push(msg) } as unknown as CallLogger;
  const start = new CallStart(ContextIdFactory.create(), {
    callSid: 'CA00000000000000000000000000000001',
    streamSid: 'MZ00000000000000000000000000000001',
    accountSid: 'AC00000000000000000000000000000001',
    customParameters: {},
  });
  return { tap: new CallAudioTap(start, taps, log), taps, warnings };
}

function recordingListener() {
  const caller: Array<[number, number]> = [];
  const assistant: Array<[number, number, number]> = [];
  let ended = 0;
  const listener: CallAudioListener = {
    callerAudio: (mulaw, atMs) => caller.push([mulaw.length, atMs]),
    assistantAudio: (mulaw, atMs) => assistant.push([mulaw.length, mulaw[0], Math.round(atMs)]),
    ended: () => ended++,
  };
  return { listener, caller, assistant, ended: () => ended };
}

describe('CallAudioTap', () => {
  it('asks every subscriber at the start, and forgets the call when it ends', () => {
    const { tap, taps } = tapWith();
    const heard = recordingListener();
    const asked: string[] = [];
    taps.subscribe((call) => {
      asked.push(call.callSid);
      return heard.listener;
    });
    tap.begin();
    expect(asked).toEqual(['CA00000000000000000000000000000001']);
    expect(taps.tapOf('CA00000000000000000000000000000001')).toBe(tap);
    tap.end(0);
    expect(heard.ended()).toBe(1);
    expect(taps.tapOf('CA00000000000000000000000000000001')).toBeUndefined();
  });

  it('passes caller frames on at their Twilio timestamps', () => {
    const { tap } = tapWith();
    const heard = recordingListener();
    tap.begin();
    tap.listen(heard.listener);
    tap.callerFrame(b64(160, 0xff), '0', 0);
    tap.callerFrame(b64(160, 0xff), '20', 0);
    expect(heard.caller).toEqual([
      [160, 0],
      [160, 20],
    ]);
  });

  it('passes assistant audio on as it plays, and nothing a barge-in cut off', () => {
    const { tap } = tapWith();
    const heard = recordingListener();
    tap.begin();
    tap.listen(heard.listener);
    tap.assistantSent(b64(800, 7), 0, 1, 0); // 100 ms at queue position 0
    tap.assistantSent(b64(800, 8), 100, 1, 100);
    tap.callerFrame(b64(160, 0xff), '0', 0);
    expect(heard.assistant).toEqual([]);
    tap.callerFrame(b64(160, 0xff), '20', 40);
    expect(heard.assistant.map(([bytes, fill]) => [bytes, fill])).toEqual([[320, 7]]);
    tap.cut(130);
    expect(heard.assistant.map(([bytes, fill]) => [bytes, fill])).toEqual([
      [320, 7],
      [480, 7],
      [240, 8],
    ]);
    tap.callerFrame(b64(160, 0xff), '40', 500);
    expect(heard.assistant).toHaveLength(3);
  });

  it('costs nothing and holds nothing with no listener', () => {
    const { tap } = tapWith();
    tap.begin();
    const stop = tap.listen(recordingListener().listener);
    stop();
    expect(tap.listened).toBe(false);
    tap.assistantSent(b64(800, 7), 0, 1, 0);
    const late = recordingListener();
    tap.listen(late.listener);
    tap.callerFrame(b64(160, 0xff), '0', 1000);
    expect(late.assistant).toEqual([]);
  });

  it('detaches a listener that throws, logs it, and keeps the others', () => {
    const { tap, warnings } = tapWith();
    const good = recordingListener();
    tap.begin();
    tap.listen({
      callerAudio: () => {
        throw new Error('disk full');
      },
    });
    tap.listen(good.listener);
    tap.callerFrame(b64(160, 0xff), '0', 0);
    tap.callerFrame(b64(160, 0xff), '20', 0);
    expect(good.caller).toHaveLength(2);
    expect(warnings).toEqual(['call audio listener failed and was detached: disk full']);
  });

  it('places the pieces of a run back to back, however late the position that releases them', () => {
    const { tap } = tapWith();
    const heard = recordingListener();
    tap.begin();
    tap.listen(heard.listener);
    const t0 = performance.now();
    tap.callerFrame(b64(160, 0xff), '0', 0); // the call's clock: t0 is 0 ms
    // One run that starts playing 40 ms into the call, then a new one at 1000 ms.
    tap.assistantSent(b64(800, 7), 0, 1, t0 + 40);
    tap.assistantSent(b64(800, 8), 100, 1, t0 + 140);
    tap.assistantSent(b64(800, 9), 200, 2, t0 + 1000);
    // (Frames without a timestamp, so that the clock stays where the first one put it.)
    tap.callerFrame(b64(160, 0xff), undefined, 60);
    // Late echoes: the position jumps past the rest of the first run at once.
    tap.callerFrame(b64(160, 0xff), undefined, 250);
    tap.cut(300);
    expect(heard.assistant.map(([bytes, fill, atMs]) => [bytes, fill, atMs])).toEqual([
      [480, 7, 40],
      [320, 7, 100],
      [800, 8, 140],
      [400, 9, 1000],
      [400, 9, 1050],
    ]);
  });

  it('never passes on audio that was dropped before it reached Twilio', () => {
    const { tap } = tapWith();
    const heard = recordingListener();
    tap.begin();
    tap.listen(heard.listener);
    const t0 = performance.now();
    tap.callerFrame(b64(160, 0xff), '0', 0);
    tap.assistantSent(b64(800, 7), 0, 1, t0);
    tap.assistantSent(b64(800, 8), 100, 1, t0 + 100);
    tap.assistantDropped(0, 100);
    tap.cut(100);
    expect(heard.assistant.map(([bytes, fill, atMs]) => [bytes, fill, atMs])).toEqual([
      [800, 8, 0],
    ]);
  });
});
