import { HttpException } from '@nestjs/common';
import type { ControlError } from '../directory/call-directory.js';
import { controlResponse, transferDestination } from './control-response.js';

const SID = `CA${'a'.repeat(32)}`;

function statusOf(error: ControlError): unknown {
  try {
    controlResponse(SID, { ok: false, error, reason: 'why' });
  } catch (thrown) {
    if (thrown instanceof HttpException) return [thrown.getStatus(), thrown.getResponse()];
  }
  return 'no exception';
}

describe('controlResponse (the one mapping of call-control results to HTTP)', () => {
  it('maps each domain error to its status, with the reason as the message', () => {
    const cases: Array<[ControlError, number]> = [
      ['malformed_id', 400],
      ['invalid_target', 400],
      ['unknown_call', 404],
      ['refused', 409],
      ['carrier_failed', 502],
      ['unavailable', 503],
      ['timeout', 504],
    ];
    for (const [error, status] of cases) {
      expect(statusOf(error)).toEqual([status, { statusCode: status, error, message: 'why' }]);
    }
  });

  it('answers a success with the call and what became of it', () => {
    expect(controlResponse(SID, { ok: true, status: 'transferred', to: '+15551234567' })).toEqual({
      callSid: SID,
      status: 'transferred',
      to: '+15551234567',
    });
    expect(controlResponse(SID, { ok: true, status: 'completed' })).toEqual({
      callSid: SID,
      status: 'completed',
    });
  });

  it('takes a transfer destination as "to" or "number", one of them', () => {
    expect(transferDestination({ to: ' +15551234567 ' })).toBe('+15551234567');
    expect(transferDestination({ number: 'sip:a@b.c' })).toBe('sip:a@b.c');
    for (const body of [{}, { to: 'a', number: 'b' }, { to: 1 }, { to: 'a', x: 1 }, null]) {
      expect(() => transferDestination(body)).toThrow(HttpException);
    }
  });
});
