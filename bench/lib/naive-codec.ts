import { DOWNSAMPLER_PROTOTYPE, UPSAMPLER_PROTOTYPE } from '../../src/audio/resampler.js';

/**
 * The textbook resamplers, as a baseline for bench:codec and an oracle for the property specs:
 * the same filters as ours, but direct-form FIRs at 24 kHz over plain arrays that are allocated
 * afresh for every chunk. Interpolation filters the zero-stuffed signal (two of every three
 * multiplies are by zero); decimation filters every input and then drops two of three outputs.
 */

function toInt16(value: number): number {
  return Math.max(-32768, Math.min(32767, Math.round(value)));
}

export class NaiveUpsampler {
  private readonly taps = Array.from(UPSAMPLER_PROTOTYPE, (h) => 3 * h);
  private history: number[] = new Array<number>(this.taps.length - 1).fill(0);

  process(input: ArrayLike<number>): number[] {
    const stuffed: number[] = [];
    for (let i = 0; i < input.length; i++) stuffed.push(input[i], 0, 0);
    const x = this.history.concat(stuffed);
    const output: number[] = [];
    for (let n = this.taps.length - 1; n < x.length; n++) {
      let sum = 0;
      for (let k = 0; k < this.taps.length; k++) sum += this.taps[k] * x[n - k];
      output.push(toInt16(sum));
    }
    this.history = x.slice(x.length - (this.taps.length - 1));
    return output;
  }
}

export class NaiveDownsampler {
  private readonly taps = Array.from(DOWNSAMPLER_PROTOTYPE);
  private history: number[] = new Array<number>(this.taps.length - 1).fill(0);
  // Absolute index of the next input; those at multiples of 3 are kept.
  private position = 0;

  process(input: ArrayLike<number>): number[] {
    const x = this.history.concat(Array.from(input));
    const filtered: number[] = [];
    for (let n = this.taps.length - 1; n < x.length; n++) {
      let sum = 0;
      for (let k = 0; k < this.taps.length; k++) sum += this.taps[k] * x[n - k];
      filtered.push(toInt16(sum));
    }
    const output = filtered.filter((_, i) => (this.position + i) % 3 === 0);
    this.position += input.length;
    this.history = x.slice(x.length - (this.taps.length - 1));
    return output;
  }
}
