import { Base64Reader, FrameMemory } from '../../src/audio/frame-memory.js';
import { encodeMulawInto } from '../../src/audio/mulaw.js';
import { Downsampler24kTo8k } from '../../src/audio/resampler.js';

/**
 * The OpenAI -> Twilio direction: PCM16 little-endian at 24 kHz in, G.711 mu-law at 8 kHz out,
 * built from the bridge's own pieces. The bridge does not use it (the Realtime session answers in
 * mu-law, which Twilio plays as it is); bench:codec measures it against the alternatives. Keeps
 * the downsampler's history and phase, and a trailing odd byte, between chunks, so the model's
 * audio deltas may have any length; one per stream.
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
