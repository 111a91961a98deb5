/**
 * Memory reused across frames and handed out as exact-length views. It reallocates only to grow
 * and re-slices only when the length changes, so a call's steady 20 ms frames allocate nothing.
 */
export class FrameMemory {
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
export class Base64Reader {
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
