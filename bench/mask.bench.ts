/**
 * bench:mask (issue 25): what RFC 6455 masking costs the bridge per call-second, and what the
 * optional `bufferutil` add-on would save. Client frames (our appends to OpenAI) are masked and
 * the frames Twilio sends us arrive masked, so `ws` XORs every byte of both; it does so in
 * JavaScript unless `bufferutil` is installed. Timed in-process on frames of the real sizes:
 *   npm run bench:mask                       (ws's JavaScript masking only)
 *   npm i --no-save bufferutil && npm run bench:mask   (both, side by side)
 * The two are `ws`'s own mask functions, loaded once with WS_NO_BUFFER_UTIL=1 (ws's documented
 * switch) and once without.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { noisePayload as payload } from './lib/noise-payload.js';

type Masking = {
  mask(source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number): void;
  unmask(buffer: Buffer, mask: Buffer): void;
};

const require = createRequire(import.meta.url);
const MIN_TIME_NS = 200e6;
const ROUNDS = 5;
const STREAM_SID = 'MZ0123456789abcdef0123456789abcdef';

/** One frame's bytes of each kind, and how many of each a call-second carries. */
const FRAMES = {
  twilioMedia: Buffer.from(
    `{"event":"media","sequenceNumber":"2","streamSid":"${STREAM_SID}","media":{"track":"inbound",` +
      `"chunk":"1","timestamp":"20","payload":"${payload(160, 1)}"}}`,
  ),
  appendG711: Buffer.from(
    `{"type":"input_audio_buffer.append","event_id":"a1","audio":"${payload(160, 1)}"}`,
  ),
  // 20 ms of 24 kHz PCM16: 960 bytes before base64.
  appendPcm16: Buffer.from(
    `{"type":"input_audio_buffer.append","event_id":"a1","audio":"${payload(960, 1)}"}`,
  ),
};
/** Per call-second: 50 caller frames plus ~10 mark echoes from Twilio, 50 appends to OpenAI. */
const TWILIO_FRAMES_PER_SECOND = 60;
const APPENDS_PER_SECOND = 50;

function loadMasking(withoutAddon: boolean): Masking {
  const file = join(dirname(require.resolve('ws/package.json')), 'lib', 'buffer-util.js');
  const saved = process.env.WS_NO_BUFFER_UTIL;
  if (withoutAddon) process.env.WS_NO_BUFFER_UTIL = '1';
  else delete process.env.WS_NO_BUFFER_UTIL;
  delete require.cache[file];
  try {
    return require(file) as Masking;
  } finally {
    if (saved === undefined) delete process.env.WS_NO_BUFFER_UTIL;
    else process.env.WS_NO_BUFFER_UTIL = saved;
    delete require.cache[file];
  }
}

/** Median ns for one mask (into a copy, as ws sends) and one unmask (in place, as ws receives). */
function time(masking: Masking, frame: Buffer): number {
  const key = Buffer.from([0x5a, 0xc3, 0x17, 0x9e]);
  const output = Buffer.alloc(frame.length);
  const once = () => {
    masking.mask(frame, key, output, 0, frame.length);
    masking.unmask(output, key);
  };
  for (let i = 0; i < 20_000; i++) once();
  const results: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let n = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < MIN_TIME_NS) {
      for (let i = 0; i < 1000; i++) once();
      n += 1000;
      elapsed = Number(process.hrtime.bigint() - start);
    }
    results.push(elapsed / n / 2);
  }
  return results.sort((a, b) => a - b)[ROUNDS >> 1];
}

function addonInstalled(): boolean {
  try {
    require.resolve('bufferutil');
    return true;
  } catch {
    return false;
  }
}

const variants: Array<[string, Masking]> = [['ws, JavaScript', loadMasking(true)]];
if (addonInstalled()) variants.push(['ws + bufferutil', loadMasking(false)]);

console.log(`Node ${process.version}; median of ${ROUNDS} rounds, ns per mask or unmask`);
const perCallSecond = new Map<string, { g711: number; pcm16: number }>();
for (const [name, masking] of variants) {
  const ns = Object.fromEntries(
    Object.entries(FRAMES).map(([kind, frame]) => [kind, time(masking, frame)]),
  ) as Record<keyof typeof FRAMES, number>;
  for (const kind of Object.keys(FRAMES) as Array<keyof typeof FRAMES>) {
    console.log(
      `  ${name.padEnd(16)} ${kind.padEnd(12)} ${String(FRAMES[kind].length).padStart(5)} bytes  ${ns[kind].toFixed(0).padStart(5)} ns`,
    );
  }
  const twilio = TWILIO_FRAMES_PER_SECOND * ns.twilioMedia;
  perCallSecond.set(name, {
    g711: (twilio + APPENDS_PER_SECOND * ns.appendG711) / 1000,
    pcm16: (twilio + APPENDS_PER_SECOND * ns.appendPcm16) / 1000,
  });
}
console.log('\nMasking per call-second (60 frames from Twilio unmasked, 50 appends masked):');
for (const [name, cost] of perCallSecond) {
  console.log(
    `  ${name.padEnd(16)} g711_ulaw ${cost.g711.toFixed(1)} us, pcm16 ${cost.pcm16.toFixed(1)} us`,
  );
}
if (!addonInstalled()) {
  console.log('\nbufferutil is not installed: `npm i --no-save bufferutil` to compare with it.');
}
