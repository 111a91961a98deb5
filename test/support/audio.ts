import alawmulaw from 'alawmulaw';

// Test audio is made and measured with an independent G.711 implementation (alawmulaw), never
// with the codec under test.

/** A sine tone as 8 kHz mu-law. */
export function mulawTone(frequencyHz: number, durationMs: number, amplitude = 8000): Buffer {
  const samples = new Int16Array((8000 * durationMs) / 1000);
  for (let i = 0; i < samples.length; i++) {
    samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / 8000));
  }
  return Buffer.from(alawmulaw.mulaw.encode(samples));
}

/** Splits audio into 20 ms Twilio frames (160 mu-law bytes). */
export function frames20ms(mulaw: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  for (let offset = 0; offset < mulaw.length; offset += 160)
    frames.push(mulaw.subarray(offset, offset + 160));
  return frames;
}

export function pcm16leSamples(bytes: Buffer): Int16Array {
  const samples = new Int16Array(bytes.length / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
  return samples;
}

/** Magnitude of one frequency in a signal (Goertzel), normalised to the sample count. */
export function toneMagnitude(
  samples: ArrayLike<number>,
  frequencyHz: number,
  sampleRate: number,
): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * frequencyHz) / sampleRate);
  let previous = 0;
  let beforePrevious = 0;
  for (let i = 0; i < samples.length; i++) {
    const current = samples[i] + coefficient * previous - beforePrevious;
    beforePrevious = previous;
    previous = current;
  }
  const power =
    previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious;
  return (2 * Math.sqrt(Math.max(power, 0))) / samples.length;
}

/** The strongest frequency in 10 Hz steps over a band, by Goertzel scan. */
export function dominantFrequency(
  samples: ArrayLike<number>,
  sampleRate: number,
  fromHz = 100,
  toHz = 4000,
): number {
  let best = fromHz;
  let bestMagnitude = -1;
  for (let f = fromHz; f <= toHz; f += 10) {
    const magnitude = toneMagnitude(samples, f, sampleRate);
    if (magnitude > bestMagnitude) {
      bestMagnitude = magnitude;
      best = f;
    }
  }
  return best;
}
