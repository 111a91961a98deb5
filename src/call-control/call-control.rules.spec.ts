import {
  allowedTransferNumbers,
  dialNumber,
  normalTarget,
  transferRefusal,
} from './call-control.rules.js';

describe('transfer rules', () => {
  it('lists TRANSFER_NUMBER first, each target once whatever its form', () => {
    expect(
      allowedTransferNumbers({
        transferNumber: '+15550001111',
        transferAllowedNumbers: ['+15550002222', 'tel:+15550001111', '+15550001111'],
      }),
    ).toEqual(['+15550001111', '+15550002222']);
  });

  it('takes every target form the API takes, when it is listed', () => {
    const targets = ['+15551234567', 'tel:+15559876543', 'sip:desk@example.com', 'sips:a@b.c'];
    const cfg = { transferNumber: undefined, transferAllowedNumbers: targets };
    for (const to of targets) expect(transferRefusal(to, cfg)).toBeUndefined();
    expect(transferRefusal('tel:+15551234567', cfg)).toBeUndefined();
    expect(transferRefusal('+15559876543', cfg)).toBeUndefined();
    expect(transferRefusal('SIP:desk@EXAMPLE.com', cfg)).toBeUndefined();
  });

  it('refuses off the list (invalid_target), and everything when nothing is listed (refused)', () => {
    const listed = { transferNumber: '+15551234567', transferAllowedNumbers: [] };
    expect(transferRefusal('+15550000000', listed)).toMatchObject({ error: 'invalid_target' });
    expect(transferRefusal('sip:+15551234567@example.com', listed)).toMatchObject({
      error: 'invalid_target',
    });
    const none = { transferNumber: undefined, transferAllowedNumbers: [] };
    expect(transferRefusal('+15551234567', none)).toEqual({
      ok: false,
      error: 'refused',
      reason: 'no transfer number configured',
    });
  });

  it('compares numbers without visual separators, SIP hosts without case', () => {
    expect(normalTarget('+15551234567')).toBe('tel:+15551234567');
    expect(normalTarget('TEL:+1-555-(123).4567;EXT=12')).toBe('tel:+15551234567;ext=12');
    expect(normalTarget('sip:Desk@PBX.Example.com:5061;transport=TLS')).toBe(
      'sip:Desk@pbx.example.com:5061;transport=TLS',
    );
    expect(normalTarget('SIPS:pbx.example.com')).toBe('sips:pbx.example.com');
  });

  it('dials a media call at a number only', () => {
    expect(dialNumber('+15551234567')).toBe('+15551234567');
    expect(dialNumber('tel:+1-555-123-4567')).toBe('+15551234567');
    expect(dialNumber('tel:+15551234567;ext=1')).toBeUndefined();
    expect(dialNumber('sip:desk@example.com')).toBeUndefined();
  });
});
