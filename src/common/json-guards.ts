/** Type guards for validating parsed JSON at the edges (Twilio frames, Realtime events). */

export type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const isString = (value: unknown): value is string => typeof value === 'string';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard, padded base64: what both Twilio and the Realtime API send for audio. */
export function isBase64(value: string): boolean {
  return BASE64.test(value);
}
