/**
 * bench:hot-path (issue 8): the per-frame parse steps of the bridge, timed in-process on frames
 * shaped like the real ones:
 *   npm run build:tools && node dist-tools/bench/hot-path.bench.js
 * CPU-bound and single-threaded, so it is far steadier than bench:load; it does not see the
 * system calls, which bench:load does (see docs/performance.md).
 */
import os from 'node:os';
import { parseRealtimeEvent } from '../src/realtime/realtime.events.js';
import { parseTwilioFrame } from '../src/twilio/media-stream.messages.js';
import { noisePayload as payload } from './lib/noise-payload.js';

const STREAM_SID = 'MZ0123456789abcdef0123456789abcdef';
const MIN_TIME_NS = 300e6;
const ROUNDS = 7;

/** Distinct frames, as the socket hands them over, so nothing is cached between iterations. */
function frames(count: number, make: (i: number) => string): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(make(i)));
}

// The load generator's shape (streamSid before media) and Twilio's documented one.
const twilioMedia = frames(
  256,
  (i) =>
    `{"event":"media","sequenceNumber":"${i + 2}","streamSid":"${STREAM_SID}",` +
    `"media":{"track":"inbound","chunk":"${i + 1}","timestamp":"${i * 20}","payload":"${payload(160, i)}"}}`,
);
const twilioMediaDocOrder = frames(
  256,
  (i) =>
    `{"event":"media","sequenceNumber":"${i + 2}","media":{"track":"inbound","chunk":"${i + 1}",` +
    `"timestamp":"${i * 20}","payload":"${payload(160, i)}"},"streamSid":"${STREAM_SID}"}`,
);
const twilioMark = frames(
  256,
  (i) =>
    `{"event":"mark","sequenceNumber":"${i + 2}","streamSid":"${STREAM_SID}",` +
    `"mark":{"name":"item_CL8n3cS0Dj0:${i}:g1:m${i}"}}`,
);
// OpenAI's audio deltas as the GA API writes them, at a small and at a common large size.
const openaiDelta = (bytes: number) =>
  frames(
    256,
    (i) =>
      `{"type":"response.output_audio.delta","event_id":"event_CJ8lAVTJX0a2Sp${i}",` +
      `"response_id":"resp_CJ8l9aQ2zEbyxWgS","item_id":"item_CJ8l9sx0UohqXtPX","output_index":0,` +
      `"content_index":0,"delta":"${payload(bytes, i)}"}`,
  );
const openaiDelta20ms = openaiDelta(160);
const openaiDelta600ms = openaiDelta(4800);

interface Case {
  label: string;
  run: (i: number) => unknown;
}

let sink: unknown;

/** Median ns per call over ROUNDS rounds of at least MIN_TIME_NS each. */
function nsPerCall(run: (i: number) => unknown): number {
  let iterations = 1000;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink = run(i);
    const elapsed = Number(process.hrtime.bigint() - start);
    if (elapsed > MIN_TIME_NS / 4) break;
    iterations *= 4;
  }
  const results: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink = run(i);
    results.push(Number(process.hrtime.bigint() - start) / iterations);
  }
  return results.sort((a, b) => a - b)[ROUNDS >> 1];
}

/** One step alone: what it costs, with nothing to compare it against. */
function single(title: string, step: Case): void {
  const ns = nsPerCall(step.run);
  console.log(`\n${title}`);
  console.log(`  ${step.label.padEnd(58)} ${ns.toFixed(0).padStart(7)} ns`);
}

function main(): void {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`bench:hot-path on ${cpu} (${os.cpus().length} CPUs), Node ${process.version}`);
  console.log('Median of 7 rounds; ns per frame.');
  const n = 256;
  // Issue 25 removed both fast paths (Twilio media, OpenAI deltas): neither saved 5 % of the
  // service's CPU in bench:compare (docs/performance.md). Every message is JSON.parse'd and checked.
  for (const [title, media] of [
    ['Twilio media frame (load generator key order)', twilioMedia],
    ["Twilio media frame (Twilio's documented key order)", twilioMediaDocOrder],
    ['Twilio mark echo', twilioMark],
  ] as const) {
    single(title, {
      label: 'JSON.parse + checks (parseTwilioFrame(buffer.toString()))',
      run: (i) => parseTwilioFrame(media[i % n].toString('utf8')),
    });
  }
  for (const [title, deltas] of [
    ['OpenAI audio delta, 20 ms', openaiDelta20ms],
    ['OpenAI audio delta, 600 ms', openaiDelta600ms],
  ] as const) {
    single(title, {
      label: 'JSON.parse + checks (parseRealtimeEvent(buffer.toString()))',
      run: (i) => parseRealtimeEvent(deltas[i % n].toString('utf8')),
    });
  }
  if (sink === 42) console.log('');
}

main();
