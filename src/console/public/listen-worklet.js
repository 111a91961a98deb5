// The console's audio worklet (AudioWorkletGlobalScope): plays a call's mu-law tracks and
// captures the operator's microphone as 8 kHz mu-law. G.711 is decoded and encoded here, in the
// page; nothing but mu-law bytes crosses the socket.

const CALL_RATE = 8000;
/** Audio held before a track starts playing, and again after it ran dry (jitter). */
const PRIME_SAMPLES = 480;
/** The most a track holds (1 s); beyond, the oldest is dropped: a listener stays live. */
const MAX_QUEUED_SAMPLES = CALL_RATE;
/** One Twilio frame: 20 ms at 8 kHz. */
const FRAME_SAMPLES = 160;

function decodeMulaw(byte) {
  const u = ~byte & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return (u & 0x80 ? 0x84 - t : t - 0x84) / 32768;
}
const DECODE = new Float32Array(256).map((_, i) => decodeMulaw(i));

function encodeMulaw(sample) {
  let pcm = Math.max(-1, Math.min(1, sample)) * 32767;
  const sign = pcm < 0 ? 0x80 : 0;
  pcm = Math.min(Math.abs(pcm), 32635) + 0x84;
  let exponent = 7;
  for (let mask = 0x4000; (pcm & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (pcm >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** One track of the call: mu-law in (port), resampled to the context's rate out. */
class ListenPlayer extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = new Float32Array(MAX_QUEUED_SAMPLES);
    this.start = 0;
    this.length = 0;
    this.position = 0;
    this.primed = false;
    this.port.onmessage = (event) => this.push(event.data);
  }

  push(mulaw) {
    for (let i = 0; i < mulaw.length; i++) {
      if (this.length === MAX_QUEUED_SAMPLES) {
        this.start = (this.start + 1) % MAX_QUEUED_SAMPLES;
        this.length--;
      }
      this.queue[(this.start + this.length) % MAX_QUEUED_SAMPLES] = DECODE[mulaw[i]];
      this.length++;
    }
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    if (!this.primed && this.length >= PRIME_SAMPLES) this.primed = true;
    const step = CALL_RATE / sampleRate;
    for (let i = 0; i < out.length; i++) {
      if (!this.primed || this.length < 2) {
        this.primed = false;
        out[i] = 0;
        continue;
      }
      const a = this.queue[this.start];
      const b = this.queue[(this.start + 1) % MAX_QUEUED_SAMPLES];
      out[i] = a + (b - a) * this.position;
      this.position += step;
      while (this.position >= 1 && this.length > 1) {
        this.position -= 1;
        this.start = (this.start + 1) % MAX_QUEUED_SAMPLES;
        this.length--;
      }
    }
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    return true;
  }
}

/** The operator's microphone, averaged down to 8 kHz, out as 20 ms mu-law frames (port). */
class MicCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frame = new Uint8Array(FRAME_SAMPLES);
    this.filled = 0;
    this.sum = 0;
    this.count = 0;
    this.phase = 0;
  }

  process(inputs) {
    const input = inputs[0][0];
    if (!input) return true;
    const step = CALL_RATE / sampleRate;
    for (let i = 0; i < input.length; i++) {
      this.sum += input[i];
      this.count++;
      this.phase += step;
      if (this.phase < 1) continue;
      this.phase -= 1;
      this.frame[this.filled++] = encodeMulaw(this.sum / this.count);
      this.sum = 0;
      this.count = 0;
      if (this.filled === FRAME_SAMPLES) {
        this.port.postMessage(this.frame.slice());
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor('listen-player', ListenPlayer);
registerProcessor('mic-capture', MicCapture);
