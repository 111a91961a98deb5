import { InputAudioChunker } from './input-audio-chunker.js';

/** `count` frames of `size` bytes, each filled with its own index so order shows. */
function frames(count: number, size: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.alloc(size, i + 1));
}

function chunkerInto(targetBytes: number) {
  const emitted: Buffer[] = [];
  const chunker = new InputAudioChunker(targetBytes, (base64) =>
    emitted.push(Buffer.from(base64, 'base64')),
  );
  return { chunker, emitted };
}

describe('InputAudioChunker', () => {
  it('joins 20 ms mu-law frames (160 bytes, base64 with padding) into chunks, bytes in order', () => {
    const { chunker, emitted } = chunkerInto(800);
    const audio = frames(12, 160);
    const began = audio.map((frame) => chunker.add(frame.toString('base64')));

    expect(emitted.map((chunk) => chunk.length)).toEqual([800, 800]);
    expect(Buffer.concat(emitted)).toEqual(Buffer.concat(audio.slice(0, 10)));
    expect(began).toEqual([
      true,
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      false,
      true,
      false,
    ]);
    expect(chunker.pending).toBe(true);
  });

  it('flushes a short tail on demand, and nothing when empty', () => {
    const { chunker, emitted } = chunkerInto(800);
    const audio = frames(2, 160);
    for (const frame of audio) chunker.add(frame.toString('base64'));
    chunker.flush();
    chunker.flush();
    expect(emitted).toEqual([Buffer.concat(audio)]);
    expect(chunker.pending).toBe(false);
  });

  it('hands the tail back without emitting it (take), then holds nothing', () => {
    const { chunker, emitted } = chunkerInto(4800);
    const audio = frames(3, 960);
    for (const frame of audio) chunker.add(frame.toString('base64'));
    const tail = chunker.take();
    expect(emitted).toEqual([]);
    expect(Buffer.from(tail!, 'base64')).toEqual(Buffer.concat(audio));
    expect(chunker.take()).toBeUndefined();
  });

  it('sends a frame too large for its buffer on its own, after what it held', () => {
    const { chunker, emitted } = chunkerInto(800);
    const [small] = frames(1, 160);
    const huge = Buffer.alloc(800 + 4096 + 1, 7);
    chunker.add(small.toString('base64'));
    chunker.add(huge.toString('base64'));
    expect(emitted).toEqual([small, huge]);
    expect(chunker.pending).toBe(false);
  });

  it('drops what it holds on clear', () => {
    const { chunker, emitted } = chunkerInto(800);
    chunker.add(frames(1, 160)[0].toString('base64'));
    chunker.clear();
    chunker.flush();
    expect(emitted).toEqual([]);
  });
});
