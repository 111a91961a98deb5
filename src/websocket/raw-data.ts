import type { RawData } from 'ws';

/** The bytes of a `ws` message as one Buffer (ws hands over a Buffer unless told otherwise). */
export function rawDataToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** The text of a `ws` message, whatever buffer shape the socket delivered it in. */
export function rawDataToString(data: RawData): string {
  return rawDataToBuffer(data).toString('utf8');
}
