import { base64DecodedLength } from '../text/json-guards.js';

/**
 * Room for one more frame past the target: Twilio sends 20 ms (160 bytes of mu-law, 960 of
 * 24 kHz PCM16); a frame that would not fit leaves on its own, uncopied.
 */
const SPARE_BYTES = 4096;

/**
 * Gathers caller audio (base64, already in the session's input format) into chunks of at least
 * `targetBytes`, so that OpenAI gets one `input_audio_buffer.append` per chunk instead of one per
 * 20 ms Twilio frame (INPUT_AUDIO_CHUNK_MS). Bytes are copied into one reused buffer and encoded
 * once per chunk: base64 strings cannot simply be joined, since a 160-byte frame ends in padding.
 * Order is kept: a chunk is the frames in the order they were added.
 */
export class InputAudioChunker {
  private readonly buffer: Buffer;
  private length = 0;

  constructor(
    private readonly targetBytes: number,
    private readonly emit: (base64: string) => void,
  ) {
    this.buffer = Buffer.allocUnsafe(targetBytes + SPARE_BYTES);
  }

  /** True while audio waits for the rest of its chunk. */
  get pending(): boolean {
    return this.length > 0;
  }

  /** Adds one frame; emits the chunk once it holds the target. Returns true if a chunk began. */
  add(base64: string): boolean {
    const began = this.length === 0;
    const bytes = base64DecodedLength(base64);
    if (this.length + bytes > this.buffer.length) {
      this.flush();
      if (bytes > this.buffer.length) {
        this.emit(base64);
        return false;
      }
    }
    this.length += this.buffer.write(base64, this.length, 'base64');
    if (this.length >= this.targetBytes) this.flush();
    return began;
  }

  /** Emits what is held, however short. */
  flush(): void {
    const chunk = this.take();
    if (chunk !== undefined) this.emit(chunk);
  }

  /** Returns what is held without emitting it (its session went away), and empties. */
  take(): string | undefined {
    if (this.length === 0) return undefined;
    const chunk = this.buffer.toString('base64', 0, this.length);
    this.length = 0;
    return chunk;
  }

  /** Drops what is held (the call is over). */
  clear(): void {
    this.length = 0;
  }
}
