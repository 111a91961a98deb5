import type { FakeTwilioCall } from './fake-twilio.js';

/**
 * Sends the caller's 20 ms frames in real time, as Twilio does (timestamps are the frame's ms
 * since the stream started), catching up after any timer lag so frame k leaves at t0 + 20k.
 */
export function callerClock(call: FakeTwilioCall, frameAt: (index: number) => Buffer) {
  const t0 = performance.now();
  let sent = 0;
  const tick = () => {
    const due = Math.floor((performance.now() - t0) / 20);
    while (sent <= due) call.sendMedia(frameAt(sent++));
  };
  tick();
  const timer = setInterval(tick, 5);
  return { t0, stop: () => clearInterval(timer) };
}

/**
 * A hiccup on the Twilio -> bridge direction: while held, everything Twilio sends the bridge
 * (caller frames and mark echoes) waits, in order; `release` delivers it in one clump. Twilio's
 * playback of what it already has goes on meanwhile.
 */
export function holdInbound(call: FakeTwilioCall) {
  const send = call.send.bind(call);
  const held: Array<Parameters<FakeTwilioCall['send']>[0]> = [];
  let holding = false;
  call.send = (frame) => (holding ? void held.push(frame) : send(frame));
  return {
    hold: () => (holding = true),
    release: () => {
      holding = false;
      for (const frame of held.splice(0)) send(frame);
    },
  };
}

/** Delays everything Twilio sends the bridge by 0 to `maxMs` ms (a fixed pattern), in order. */
export function jitterInbound(call: FakeTwilioCall, maxMs: number) {
  const send = call.send.bind(call);
  let releaseAt = 0;
  let sequence = 0;
  call.send = (frame) => {
    releaseAt = Math.max(releaseAt, performance.now() + ((sequence++ * 7919) % (maxMs + 1)));
    setTimeout(() => send(frame), Math.max(0, releaseAt - performance.now()));
  };
}
