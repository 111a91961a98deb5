import { EventEmitter2 } from '@nestjs/event-emitter';
import type { CallRegistry } from '../call/call-registry.service.js';
import type { ControlCommand } from '../directory/call-directory.js';
import { MemoryCallDirectory } from '../directory/memory-call-directory.js';
import type { CallControlConfig } from '../config/config.namespaces.js';
import type { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';
import { CallControlService } from './call-control.service.js';

const SID = `CA${'d'.repeat(32)}`;
const SIP_ID = 'rtc_0123456789abcdef';

/** The owner of one live media call (SID) and one SIP call (SIP_ID), with a fake REST API. */
function owner(cfg: Partial<CallControlConfig>) {
  const requests: string[] = [];
  const closed: string[] = [];
  const handovers: string[] = [];
  const said: string[] = [];
  const context = {
    accountSid: `AC${'0'.repeat(32)}`,
    transfer: (to: string) => handovers.push(to),
    say: (text: string) => said.push(text),
  };
  const media = { context, close: (reason: string) => closed.push(reason) };
  const sip = {
    context,
    close: (reason: string) => closed.push(reason),
    transferNow: (to: string) => {
      requests.push(`refer ${to}`);
      return Promise.resolve();
    },
  };
  const registry = { get: (sid: string) => ({ [SID]: media, [SIP_ID]: sip })[sid] };
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
  const directory = new MemoryCallDirectory({ instanceId: 'A', events: new EventEmitter2() });
  for (const callSid of [SID, SIP_ID]) {
    directory.admitNow({ callSid, instance: 'A', startedAt: '', direction: 'inbound' });
  }
  const control = new CallControlService(
    directory,
    registry as unknown as CallRegistry,
    rest as unknown as TwilioRestService,
    { transferNumber: undefined, transferAllowedNumbers: [], ...cfg } as CallControlConfig,
  );
  control.onModuleInit();
  // What the cluster bus does with a request for one of this instance's calls.
  const fromBus = (sid: string, command: ControlCommand) => directory.controlLocal(sid, command);
  return { control, fromBus, directory, requests, closed, handovers, said };
}

describe('CallControlService (the owner of a call)', () => {
  it('refuses a transfer off the allow-list, as the API does, without touching Twilio', async () => {
    const { fromBus, requests } = owner({ transferAllowedNumbers: ['+15550003333'] });
    expect(await fromBus(SID, { action: 'transfer', number: '+19005550123' })).toEqual({
      ok: false,
      error: 'invalid_target',
      reason: 'transfers may only go to +15550003333',
    });
    expect(requests).toEqual([]);
    expect(await fromBus(SID, { action: 'transfer', number: '+15550003333' })).toEqual({
      ok: true,
      status: 'transferred',
      to: '+15550003333',
    });
    expect(requests).toEqual([expect.stringContaining('<Dial>+15550003333</Dial>')]);
  });

  it('refuses every transfer, on every path, when no transfer number is configured', async () => {
    const { control, fromBus, requests, handovers } = owner({});
    const refused = { ok: false, error: 'refused', reason: 'no transfer number configured' };
    for (const number of ['+15551234567', 'tel:+15551234567', 'sip:desk@example.com']) {
      expect(await fromBus(SID, { action: 'transfer', number })).toEqual(refused);
      expect(await control.transfer(SID, number)).toEqual(refused);
      expect(await control.transfer(SID, number, { announce: true })).toEqual(refused);
    }
    expect(control.transferNumbers()).toEqual([]);
    expect([...requests, ...handovers]).toEqual([]);
  });

  it('refuses a malformed destination or call id', async () => {
    const { fromBus, requests } = owner({ transferNumber: '+15551234567' });
    for (const number of ['+1900<Dial>', 'javascript:x', '', '+0123']) {
      expect(await fromBus(SID, { action: 'transfer', number })).toMatchObject({
        error: 'invalid_target',
      });
    }
    expect(await fromBus('CA1', { action: 'hangup' })).toMatchObject({ error: 'malformed_id' });
    expect(requests).toEqual([]);
  });

  it('answers unknown_call for a call it does not carry', async () => {
    const { control } = owner({});
    expect(await control.hangUp(`CA${'e'.repeat(32)}`)).toMatchObject({ error: 'unknown_call' });
  });

  it('hangs up a media call through Twilio, once', async () => {
    const { control, requests, closed } = owner({});
    expect(await control.hangUp(SID)).toEqual({ ok: true, status: 'completed' });
    expect(requests).toEqual([`${SID} hangup`]);
    expect(closed).toEqual(['hung up through the API']);
  });

  it('matches tel: and +E.164 forms of one number, and dials a media call at the number', async () => {
    const { control, requests } = owner({ transferAllowedNumbers: ['tel:+1-555-000-3333'] });
    expect(control.transferNumbers()).toEqual(['tel:+1-555-000-3333']);
    expect(await control.transfer(SID, '+15550003333')).toMatchObject({ ok: true });
    expect(requests).toEqual([expect.stringContaining('<Dial>+15550003333</Dial>')]);
  });

  it('transfers a SIP call to a listed sip: or sips: URI, host compared case-insensitively', async () => {
    const { control, requests } = owner({
      transferAllowedNumbers: ['sip:desk@PBX.example.com', 'sips:secure@example.com'],
    });
    expect(await control.transfer(SIP_ID, 'sip:desk@pbx.example.com')).toEqual({
      ok: true,
      status: 'transferred',
      to: 'sip:desk@pbx.example.com',
    });
    expect(await control.transfer(SIP_ID, 'sips:secure@example.com')).toMatchObject({ ok: true });
    // The user part is case-sensitive, and sip: is not sips:.
    expect(await control.transfer(SIP_ID, 'sip:DESK@pbx.example.com')).toMatchObject({
      error: 'invalid_target',
    });
    expect(await control.transfer(SIP_ID, 'sip:secure@example.com')).toMatchObject({
      error: 'invalid_target',
    });
    expect(requests).toEqual(['refer sip:desk@pbx.example.com', 'refer sips:secure@example.com']);
  });

  it('refuses a SIP URI for a media call, which only <Dial>s numbers', async () => {
    const { control, requests } = owner({ transferNumber: 'sip:desk@example.com' });
    expect(await control.transfer(SID, 'sip:desk@example.com')).toMatchObject({
      error: 'invalid_target',
    });
    expect(requests).toEqual([]);
  });

  it('hands over with a sentence first when asked to announce (the console)', async () => {
    const { control, handovers, requests } = owner({ transferNumber: 'tel:+15550003333' });
    expect(await control.transfer(SID, 'tel:+15550003333', { announce: true })).toEqual({
      ok: true,
      status: 'transferring',
      to: 'tel:+15550003333',
    });
    expect(handovers).toEqual(['+15550003333']);
    expect(requests).toEqual([]);
  });

  it('has the assistant say a sentence of bounded length', async () => {
    const { control, said } = owner({});
    expect(await control.say(SID, 'Your table is booked.')).toEqual({ ok: true, status: 'saying' });
    expect(await control.say(SID, 'x'.repeat(1001))).toMatchObject({ error: 'invalid_text' });
    expect(await control.say(SID, ' ')).toMatchObject({ error: 'invalid_text' });
    expect(said).toEqual(['Your table is booked.']);
  });
});
