/**
 * WebSocket text frames (RFC 6455 section 5.2) made in one Buffer, header and payload together,
 * for the messages the bridge sends every 20 ms of every call. `ws` frames a message as a header
 * and a payload that Node then writes as two chunks (cork, two writes, uncork, writev), and as
 * a client it first copies the text into a Buffer to XOR it with a random key. One ready-made
 * buffer is one plain write (bench:ws-send measures the difference). Frames are unfragmented and
 * uncompressed (the bridge never negotiates permessage-deflate).
 *
 * A client frame is masked with a zero key, which leaves the payload as it is. The key exists so
 * that a script in a browser cannot make its frames look like HTTP to a caching proxy between
 * it and the server; our own TLS connection to OpenAI, carrying JSON we built, gains nothing
 * from a random one.
 */
const OPCODE_TEXT_FIN = 0x81;

/** ws's `generateMask` option for a client socket: the same all-zero key as these frames. */
export function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

const MASK_BIT = 0x80;
const MASK_KEY_BYTES = 4;

function headerBytes(length: number, masked: boolean): number {
  const extended = length < 126 ? 0 : length < 65536 ? 2 : 8;
  return 2 + extended + (masked ? MASK_KEY_BYTES : 0);
}

/** Writes one frame of `text` (`length` bytes of UTF-8) at `at`; returns where it ends. */
function writeFrame(target: Buffer, at: number, text: string, length: number, masked: boolean) {
  const maskBit = masked ? MASK_BIT : 0;
  target[at] = OPCODE_TEXT_FIN;
  let offset = at + 2;
  if (length < 126) {
    target[at + 1] = maskBit | length;
  } else if (length < 65536) {
    target[at + 1] = maskBit | 126;
    target.writeUInt16BE(length, offset);
    offset += 2;
  } else {
    target[at + 1] = maskBit | 127;
    target.writeUInt32BE(Math.floor(length / 2 ** 32), offset);
    target.writeUInt32BE(length >>> 0, offset + 4);
    offset += 8;
  }
  if (masked) {
    target.writeUInt32BE(0, offset);
    offset += MASK_KEY_BYTES;
  }
  // Only ASCII has as many bytes as characters, and latin1 copies it fastest.
  return offset + target.write(text, offset, length === text.length ? 'latin1' : 'utf8');
}

/** One text frame; `masked` for a client's frame. */
export function encodeTextFrame(text: string, masked: boolean): Buffer {
  const length = Buffer.byteLength(text);
  const frame = Buffer.allocUnsafe(headerBytes(length, masked) + length);
  writeFrame(frame, 0, text, length, masked);
  return frame;
}

/** Two text frames in one buffer, to leave in one write. */
export function encodeTextFramePair(first: string, second: string, masked: boolean): Buffer {
  const firstLength = Buffer.byteLength(first);
  const secondLength = Buffer.byteLength(second);
  const frames = Buffer.allocUnsafe(
    headerBytes(firstLength, masked) +
      firstLength +
      headerBytes(secondLength, masked) +
      secondLength,
  );
  const middle = writeFrame(frames, 0, first, firstLength, masked);
  writeFrame(frames, middle, second, secondLength, masked);
  return frames;
}
