import { monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 5;

/**
 * How late this process's event loop ran while a measurement was taken. Fakes played in the test
 * process (Twilio's playback) stamp what happened when the loop gets to it, so on a busy machine
 * their stamps are late by up to this much: a timing bound adds it on top. Returns a function
 * that stops measuring and gives the ms beyond the timer's own resolution.
 */
export function measureLoopLateness(): () => number {
  const lag = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  lag.enable();
  return () => {
    lag.disable();
    return Math.max(0, lag.max / 1e6 - RESOLUTION_MS);
  };
}
