import alawmulaw from 'alawmulaw';
import { energyToDbfs, mulawEnergy, SILENCE_DBFS } from './audio-level.js';
import { MULAW_SILENCE } from './mulaw.js';
import { sine } from './testing/signal.js';

// Test audio is encoded with an independent G.711 implementation (alawmulaw).
const mulaw = (samples: Int16Array) => Uint8Array.from(alawmulaw.mulaw.encode(samples));
const levelOf = (bytes: Uint8Array) => energyToDbfs(mulawEnergy(bytes), bytes.length);

describe('audio level (RMS dBFS of mu-law)', () => {
  it('reads digital silence and no audio at all as the floor', () => {
    expect(levelOf(new Uint8Array(160).fill(MULAW_SILENCE))).toBe(SILENCE_DBFS);
    expect(energyToDbfs(0, 0)).toBe(SILENCE_DBFS);
  });

  it.each([
    [16000, 20 * Math.log10(16000 / 32768 / Math.SQRT2)],
    [4000, 20 * Math.log10(4000 / 32768 / Math.SQRT2)],
    [500, 20 * Math.log10(500 / 32768 / Math.SQRT2)],
  ])('reads a sine of amplitude %i at its RMS level (%f dBFS) within 0.5 dB', (amplitude, db) => {
    expect(Math.abs(levelOf(mulaw(sine(440, 8000, 1600, amplitude))) - db)).toBeLessThan(0.5);
  });

  it('is louder for louder audio, 6 dB per doubling of amplitude', () => {
    const quiet = levelOf(mulaw(sine(300, 8000, 800, 2000)));
    const loud = levelOf(mulaw(sine(300, 8000, 800, 4000)));
    expect(loud - quiet).toBeGreaterThan(5.5);
    expect(loud - quiet).toBeLessThan(6.5);
  });

  it('measures only the first `length` bytes', () => {
    const bytes = new Uint8Array(320).fill(MULAW_SILENCE);
    bytes.set(mulaw(sine(440, 8000, 160, 8000)), 160);
    expect(mulawEnergy(bytes, 160)).toBe(0);
    expect(mulawEnergy(bytes)).toBeGreaterThan(0);
  });
});
