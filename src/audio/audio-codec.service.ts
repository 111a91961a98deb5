import { Injectable } from '@nestjs/common';
import { Base64Reader, FrameMemory } from './frame-memory.js';
import { decodeMulawInto } from './mulaw.js';
import { Upsampler8kTo24k } from './resampler.js';

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
 * The codec a call session uses. Only the Twilio -> OpenAI direction is converted here: the
 * Realtime session answers in G.711 mu-law, which Twilio plays as it is. (The reverse converter,
 * for comparison, lives in bench/lib.)
 */
@Injectable()
export class AudioCodecService {
  createInboundConverter(): MulawToPcm24kConverter {
    return new MulawToPcm24kConverter();
  }
}
