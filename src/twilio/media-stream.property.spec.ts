import fc from 'fast-check';
import { parseTwilioFrame, twilioOutbound } from './media-stream.messages.js';

const frameLike = fc.record(
  {
    event: fc.oneof(
      fc.constantFrom('connected', 'start', 'media', 'mark', 'dtmf', 'stop'),
      fc.string(),
    ),
    streamSid: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
    media: fc.oneof(
      fc.record({ payload: fc.oneof(fc.base64String(), fc.string(), fc.integer()) }),
      fc.anything(),
    ),
    mark: fc.anything(),
    dtmf: fc.anything(),
    start: fc.anything(),
    stop: fc.anything(),
  },
  { requiredKeys: ['event'] },
);

describe('parseTwilioFrame (property-based)', () => {
  it('never throws on arbitrary text and always says why it refuses', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (text) => {
        const result = parseTwilioFrame(text);
        if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary JSON values, and whatever it accepts is well formed', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), frameLike), (value) => {
        const result = parseTwilioFrame(JSON.stringify(value) ?? 'undefined');
        if (!result.ok) return;
        const frame = result.frame;
        if (frame.event === 'media') {
          // Valid base64: its length says exactly how many bytes it carries.
          const { payload } = frame.media;
          const padding = payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0;
          expect(Buffer.from(payload, 'base64').length).toBe((payload.length / 4) * 3 - padding);
        }
        if (frame.event !== 'connected') expect(typeof frame.streamSid).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every well-formed media frame and returns its payload unchanged', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 400 }),
        fc.stringMatching(/^MZ[0-9a-f]{32}$/),
        (bytes, streamSid) => {
          const payload = Buffer.from(bytes).toString('base64');
          const result = parseTwilioFrame(
            JSON.stringify({
              event: 'media',
              sequenceNumber: '3',
              streamSid,
              media: { track: 'inbound', chunk: '1', timestamp: '20', payload },
            }),
          );
          expect(result.ok && result.frame.event === 'media' && result.frame.media.payload).toBe(
            payload,
          );
        },
      ),
    );
  });

  it('builds outbound frames that parse back to what was put in', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const payload = Buffer.from(bytes).toString('base64');
        expect(JSON.parse(twilioOutbound.media('MZ1', payload))).toEqual({
          event: 'media',
          streamSid: 'MZ1',
          media: { payload },
        });
      }),
    );
  });
});
