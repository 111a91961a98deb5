import type { CallRegistry } from '../call/call-registry.service.js';
import type { CallDirectory, ControlResult } from '../cluster/call-directory.js';
import type { CallControlConfig } from '../config/config.namespaces.js';
import type { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';
import { CallControlHandler } from './call-control.handler.js';
import { allowedTransferNumbers, commandRefusal, transferRefusal } from './call-control.rules.js';

const SID = `CA${'d'.repeat(32)}`;

/** The owner's side of a command that came over the bus: one live media call, a REST API. */
function owner(cfg: Partial<CallControlConfig>) {
  const requests: string[] = [];
  const closed: string[] = [];
  const session = {
    context: { accountSid: `AC${'0'.repeat(32)}` },
    close: (reason: string) => closed.push(reason),
  };
  const registry = { get: (sid: string) => (sid === SID ? session : undefined) };
  const rest = {
    available: true,
    redirect: (_account: string, sid: string, twiml: string) => {
      requests.push(`${sid} ${twiml}`);
      return Promise.resolve();
    },
    hangUp: (_account: string, sid: string) => {
      requests.push(`${sid} hangup`);
      return Promise.resolve();
    },
  };
  let handler: ((sid: string, command: never) => Promise<ControlResult>) | undefined;
  const directory = { onControl: (h: typeof handler) => (handler = h) };
  const control = new CallControlHandler(
    directory as unknown as CallDirectory,
    registry as unknown as CallRegistry,
    rest as unknown as TwilioRestService,
    { transferNumber: undefined, transferAllowedNumbers: [], ...cfg } as CallControlConfig,
  );
  control.onModuleInit();
  return { run: handler!, requests, closed };
}

describe('CallControlHandler (the owner of a call)', () => {
  it('refuses a transfer off the allow-list, as the API does, without touching Twilio', async () => {
    const { run, requests } = owner({ transferAllowedNumbers: ['+15550003333'] });
    const result = await run(SID, { action: 'transfer', number: '+19005550123' } as never);
    expect(result).toEqual({
      status: 400,
      body: { message: 'transfers may only go to +15550003333' },
    });
    expect(requests).toEqual([]);
    expect((await run(SID, { action: 'transfer', number: '+15550003333' } as never)).status).toBe(
      200,
    );
    expect(requests).toEqual([expect.stringContaining('<Dial>+15550003333</Dial>')]);
  });

  it('refuses a malformed destination or call id even with no allow-list', async () => {
    const { run, requests } = owner({});
    for (const number of ['+1900<Dial>', 'javascript:x', '', '+0123']) {
      expect((await run(SID, { action: 'transfer', number } as never)).status).toBe(400);
    }
    expect((await run('CA1', { action: 'hangup' } as never)).status).toBe(400);
    expect(requests).toEqual([]);
    // Today's API rule: with no list set, any well-formed number (issue 25 will change it).
    expect((await run(SID, { action: 'transfer', number: '+15551234567' } as never)).status).toBe(
      200,
    );
  });

  it('answers 404 for a call it does not carry', async () => {
    const { run } = owner({});
    expect((await run(`CA${'e'.repeat(32)}`, { action: 'hangup' } as never)).status).toBe(404);
  });
});

describe('transfer rules', () => {
  it('lists TRANSFER_NUMBER first, each number once', () => {
    expect(
      allowedTransferNumbers({
        transferNumber: '+15550001111',
        transferAllowedNumbers: ['+15550002222', '+15550001111'],
      }),
    ).toEqual(['+15550001111', '+15550002222']);
  });

  it('takes every target form the API takes', () => {
    const cfg = { transferNumber: undefined, transferAllowedNumbers: [] };
    for (const to of ['+15551234567', 'tel:+15551234567', 'sip:desk@example.com', 'sips:a@b.c']) {
      expect(transferRefusal(to, cfg)).toBeUndefined();
    }
  });

  it('refuses a target of any other form, saying which forms it takes', () => {
    const cfg = { transferNumber: undefined, transferAllowedNumbers: [] };
    expect(transferRefusal(`+1${'2'.repeat(5)}`, cfg)).toBe(
      'expected an E.164 number such as +15551234567, or a sip:/tel: URI',
    );
    for (const to of [
      `+1${'2'.repeat(15)}`,
      'x+15551234567',
      '+15551234567x',
      '+1555123456a',
      'sipss:a@b',
      'http:a@b',
      'xsip:a@b',
      'sip:',
      `sip:${'a'.repeat(201)}`,
      'sip:a b',
      'sip:a<b',
      'sip:a>b',
      'sip:a"b',
    ]) {
      expect(transferRefusal(to, cfg)).toBeDefined();
    }
    for (const to of [`+1${'2'.repeat(6)}`, `+1${'2'.repeat(14)}`, `sip:${'a'.repeat(200)}`]) {
      expect(transferRefusal(to, cfg)).toBeUndefined();
    }
  });

  it('names every allowed number when it refuses one off the list', () => {
    const cfg = { transferNumber: '+15550001111', transferAllowedNumbers: ['+15550002222'] };
    expect(transferRefusal('+15550003333', cfg)).toBe(
      'transfers may only go to +15550001111, +15550002222',
    );
    expect(transferRefusal('+15550002222', cfg)).toBeUndefined();
  });

  it('takes a SIP call id as well as a CallSid, and refuses anything else', () => {
    const cfg = { transferNumber: undefined, transferAllowedNumbers: [] };
    expect(commandRefusal('rtc_0123456789abcdef', { action: 'hangup' }, cfg)).toBeUndefined();
    expect(commandRefusal(SID, { action: 'end' }, cfg)).toBeUndefined();
    expect(commandRefusal('CA1', { action: 'hangup' }, cfg)).toBe(
      'not a call id (a Twilio CallSid CA + 32 hex, or rtc_...)',
    );
  });
});
