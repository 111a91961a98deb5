/** Base64 of `bytes` pseudo-random bytes (mu-law noise), the same for the same seed. */
export function noisePayload(bytes: number, seed: number): string {
  const data = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  return data.toString('base64');
}
