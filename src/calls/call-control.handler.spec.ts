import type { CallRegistry } from '../call/call-registry.service.js';
import type { CallDirectory, ControlResult } from '../cluster/call-directory.js';
import type { CallControlConfig } from '../config/config.namespaces.js';
import type { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';
import { CallControlHandler } from './call-control.handler.js';
import { allowedTransferNumbers, transferRefusal } from './call-control.rules.js';

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
});
