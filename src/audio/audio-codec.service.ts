import { Injectable } from '@nestjs/common';
import { decodeMulawInto, encodeMulawInto } from './mulaw.js';
import { Downsampler24kTo8k, Upsampler8kTo24k } from './resampler.js';

/**
 * Memory reused across frames and handed out as exact-length views. It reallocates only to grow
 * and re-slices only when the length changes, so a call's steady 20 ms frames allocate nothing.
 */
class FrameMemory {
  private memory = new ArrayBuffer(0);
  private samplesView = new Int16Array(0);
  private bytesView = Buffer.alloc(0);

  samples(count: number): Int16Array {
    if (this.samplesView.length !== count) {
      this.samplesView = new Int16Array(this.reserve(count * 2), 0, count);
    }
    return this.samplesView;
  }

  /** The same memory as `samples`, as bytes. */
  bytes(count: number): Buffer {
    if (this.bytesView.length !== count) {
      this.bytesView = Buffer.from(this.reserve(count), 0, count);
    }
    return this.bytesView;
  }

  private reserve(byteLength: number): ArrayBuffer {
    if (this.memory.byteLength < byteLength) {
      this.memory = new ArrayBuffer(Math.max(byteLength, 2 * this.memory.byteLength));
      // Views of the old memory must not be handed out again.
      this.samplesView = new Int16Array(0);
      this.bytesView = Buffer.alloc(0);
    }
    return this.memory;
  }
}

/**
 * Decodes base64 into reused memory, where Buffer.from would allocate per frame.
 *
 * Never throws: like Buffer.from, it skips characters outside the base64 and base64url alphabets
 * and stops at padding, so malformed input yields at most ceil(3 * length / 4) bytes of whatever
 * decodes. Callers validate payloads before they get here; this only bounds the damage.
 */
class Base64Reader {
  private memory = Buffer.alloc(0);
  private view = this.memory;

  read(payload: string): Buffer {
    const maxBytes = Math.ceil((payload.length * 3) / 4);
    if (this.memory.length < maxBytes) {
      this.memory = Buffer.alloc(Math.max(maxBytes, 2 * this.memory.length));
      this.view = this.memory.subarray(0, 0);
    }
    const length = this.memory.write(payload, 'base64');
    if (this.view.length !== length) this.view = this.memory.subarray(0, length);
    return this.view;
  }
}

/**
 * One call's Twilio -> OpenAI direction: G.711 mu-law at 8 kHz in, PCM16 little-endian at 24 kHz
 * out. Keeps the upsampler's history between frames; create one per call.
 */
export class MulawToPcm24kConverter {
  private readonly upsampler = new Upsampler8kTo24k();
  private readonly base64 = new Base64Reader();
  private readonly pcm8k = new FrameMemory();
  private readonly pcm24k = new FrameMemory();

  /**
   * Converts one chunk (160 bytes -> 960 bytes for 20 ms). The result is a view of memory this
   * converter reuses: it is valid until the next call, so send or copy it before then.
   */
  convert(mulaw: Uint8Array): Buffer {
    const pcm8k = this.pcm8k.samples(mulaw.length);
    decodeMulawInto(mulaw, pcm8k);
    const count = this.upsampler.outputLength(pcm8k.length);
    // Int16Array stores in host byte order, which is little-endian on every supported host.
    this.upsampler.processInto(pcm8k, this.pcm24k.samples(count));
    return this.pcm24k.bytes(count * 2);
  }

  /** Base64 mu-law (a Twilio `media.payload`) to base64 PCM16 at 24 kHz. See Base64Reader. */
  convertBase64(payloadBase64: string): string {
    return this.convert(this.base64.read(payloadBase64)).toString('base64');
  }

  /** Forgets the history, for a new stream. */
  reset(): void {
    this.upsampler.reset();
  }
}

/**
 * One call's OpenAI -> Twilio direction: PCM16 little-endian at 24 kHz in, G.711 mu-law at 8 kHz
 * out. Keeps the downsampler's history and phase, and a trailing odd byte, between chunks, so the
 * model's audio deltas may have any length; create one per call.
 */
export class Pcm24kToMulawConverter {
  private readonly downsampler = new Downsampler24kTo8k();
  private readonly base64 = new Base64Reader();
  private readonly pcm24k = new FrameMemory();
  private readonly pcm8k = new FrameMemory();
  private readonly mulaw = new FrameMemory();
  // Low byte of a sample split across chunks, or -1.
  private pendingByte = -1;

  /**
   * Converts one chunk (960 bytes -> 160 bytes for 20 ms). The result is a view of memory this
   * converter reuses: it is valid until the next call, so send or copy it before then.
   */
  convert(pcm16le: Uint8Array): Buffer {
    const carried = this.pendingByte >= 0 ? 1 : 0;
    const samples = this.pcm24k.samples((pcm16le.length + carried) >> 1);
    // Assembling samples from bytes fixes the byte order to the wire's and works for pooled
    // Buffers at odd byteOffsets, where an Int16Array view would throw. Int16Array stores wrap
    // 0..65535 to signed.
    let i = 0;
    let s = 0;
    if (carried && pcm16le.length > 0) {
      samples[s++] = this.pendingByte | (pcm16le[0] << 8);
      i = 1;
      this.pendingByte = -1;
    }
    for (; i + 1 < pcm16le.length; i += 2) samples[s++] = pcm16le[i] | (pcm16le[i + 1] << 8);
    if (i < pcm16le.length) this.pendingByte = pcm16le[i];

    const pcm8k = this.pcm8k.samples(this.downsampler.outputLength(samples.length));
    this.downsampler.processInto(samples, pcm8k);
    const mulaw = this.mulaw.bytes(pcm8k.length);
    encodeMulawInto(pcm8k, mulaw);
    return mulaw;
  }

  /** Base64 PCM16 at 24 kHz (a Realtime `response.output_audio.delta`) to base64 mu-law. */
  convertBase64(audioBase64: string): string {
    return this.convert(this.base64.read(audioBase64)).toString('base64');
  }

  /** Forgets the history, phase and any carried byte, for a new stream. */
  reset(): void {
    this.downsampler.reset();
    this.pendingByte = -1;
  }
}

/** The codec a call session uses: per-call converters plus one-off helpers. */
@Injectable()
export class AudioCodecService {
  createInboundConverter(): MulawToPcm24kConverter {
    return new MulawToPcm24kConverter();
  }

  createOutboundConverter(): Pcm24kToMulawConverter {
    return new Pcm24kToMulawConverter();
  }

  /** Decodes mu-law into a new array (not for the per-frame path; use a converter there). */
  decodeMulaw(mulaw: Uint8Array): Int16Array {
    const samples = new Int16Array(mulaw.length);
    decodeMulawInto(mulaw, samples);
    return samples;
  }

  /** Encodes samples into a new Buffer (not for the per-frame path; use a converter there). */
  encodeMulaw(samples: Int16Array): Buffer {
    const mulaw = Buffer.allocUnsafe(samples.length);
    encodeMulawInto(samples, mulaw);
    return mulaw;
  }
}
