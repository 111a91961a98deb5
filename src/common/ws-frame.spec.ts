import { EventEmitter } from 'node:events';
import * as wsExports from 'ws';
import { encodeTextFrame, encodeTextFramePair } from './ws-frame.js';

/** ws's frame parser: exported at run time, left out of @types/ws. */
interface FrameReceiver extends EventEmitter {
  write(chunk: Buffer): void;
}
const { Receiver } = wsExports as unknown as {
  Receiver: new (options: { isServer: boolean; maxPayload: number }) => FrameReceiver;
};

/** What ws's own frame parser makes of `bytes`, as the peer of a client or of a server. */
function parse(bytes: Buffer, fromClient: boolean): string[] {
  const messages: string[] = [];
  const receiver = new Receiver({ isServer: fromClient, maxPayload: 1 << 20 });
  receiver.on('message', (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    messages.push(data.toString());
  });
  receiver.on('error', (error: Error) => {
    throw error;
  });
  receiver.write(bytes);
  return messages;
}

describe('ws-frame', () => {
  const texts = ['', 'a', 'x'.repeat(125), 'y'.repeat(126), 'z'.repeat(65_535), 'w'.repeat(65_536)];

  it.each(texts.map((text) => [text.length, text]))(
    'frames %i characters as ws reads them, from a server and from a client',
    (_length, text) => {
      expect(parse(encodeTextFrame(text, false), false)).toEqual([text]);
      expect(parse(encodeTextFrame(text, true), true)).toEqual([text]);
    },
  );

  it('counts non-ASCII text in UTF-8 bytes', () => {
    const text = `caf\u00e9 \u260e ${'\u00e9'.repeat(70)}`;
    expect(parse(encodeTextFrame(text, true), true)).toEqual([text]);
    expect(parse(encodeTextFrame(text, false), false)).toEqual([text]);
  });

  it('masks client frames with a zero key, leaving the payload readable as is', () => {
    const frame = encodeTextFrame('hi', true);
    expect([...frame]).toEqual([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69]);
    expect([...encodeTextFrame('hi', false)]).toEqual([0x81, 0x02, 0x68, 0x69]);
  });

  it('puts two frames in one buffer, read as two messages in order', () => {
    const pair = encodeTextFramePair('{"event":"media"}', 'm'.repeat(300), false);
    expect(parse(pair, false)).toEqual(['{"event":"media"}', 'm'.repeat(300)]);
    expect(parse(encodeTextFramePair('a', 'b', true), true)).toEqual(['a', 'b']);
  });
});
