import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import {
  callRecordSchema,
  controlChannelSchema,
  controlCommandSchema,
  controlReplySchema,
  controlRequestSchema,
  eventMessageSchema,
  liveCallSchema,
  sharedEventSchema,
  storedPlanSchema,
} from './bus-messages.js';
import { isSipCallId } from '../sip-call/sip.constants.js';

// What an instance takes from Redis once the envelope's signature holds: a signed message from a
// buggy or older instance is still refused when it is not one of these shapes.

const SID = `CA${'a'.repeat(32)}`;
const ok = (schema: z.ZodType, value: unknown) => schema.safeParse(value).success;

const liveCall = {
  callSid: SID,
  instance: 'bridge-1.pod:a',
  from: '+15550001111',
  to: '+15550002222',
  startedAt: '2026-01-02T03:04:05.000Z',
  direction: 'inbound',
  streamSid: `MZ${'b'.repeat(32)}`,
  profile: 'default',
  transport: 'media',
};

describe('liveCallSchema (a live call record)', () => {
  it('takes a complete record and one with only the required fields', () => {
    expect(liveCallSchema.parse(liveCall)).toEqual(liveCall);
    const { callSid, instance, startedAt, direction } = liveCall;
    expect(ok(liveCallSchema, { callSid, instance, startedAt, direction })).toBe(true);
  });

  it('takes both directions and both transports, and nothing else', () => {
    for (const direction of ['inbound', 'outbound']) {
      expect(ok(liveCallSchema, { ...liveCall, direction })).toBe(true);
    }
    for (const transport of ['media', 'sip']) {
      expect(ok(liveCallSchema, { ...liveCall, transport })).toBe(true);
    }
    expect(ok(liveCallSchema, { ...liveCall, direction: 'sideways' })).toBe(false);
    expect(ok(liveCallSchema, { ...liveCall, direction: '' })).toBe(false);
    expect(ok(liveCallSchema, { ...liveCall, transport: 'pigeon' })).toBe(false);
    expect(ok(liveCallSchema, { ...liveCall, transport: '' })).toBe(false);
  });

  it('takes every SIP call id the webhook takes (one bound: a call no other instance can see is lost)', () => {
    for (const length of [36, 64, 65, 100, 128, 129]) {
      const callSid = `rtc_${'a'.repeat(length - 4)}`;
      expect(ok(liveCallSchema, { ...liveCall, callSid, transport: 'sip' })).toBe(
        isSipCallId(callSid),
      );
    }
  });

  it('refuses a call id that is empty, too long or not id-shaped', () => {
    expect(ok(liveCallSchema, { ...liveCall, callSid: 'rtc_a-b_C9' })).toBe(true);
    expect(ok(liveCallSchema, { ...liveCall, callSid: 'x'.repeat(128) })).toBe(true);
    for (const callSid of ['', 'x'.repeat(129), 'CA1 2', `${SID}\n`, `\n${SID}`, 'CA<1>', 'a.b']) {
      expect(ok(liveCallSchema, { ...liveCall, callSid })).toBe(false);
    }
  });

  it("refuses an instance name INSTANCE_ID's rule refuses", () => {
    expect(ok(liveCallSchema, { ...liveCall, instance: 'x'.repeat(64) })).toBe(true);
    for (const instance of ['', 'x'.repeat(65), 'a b', 'a/b', ' a', 'a ']) {
      expect(ok(liveCallSchema, { ...liveCall, instance })).toBe(false);
    }
  });

  it('refuses text fields over 256 characters and a start time that is not ISO', () => {
    expect(ok(liveCallSchema, { ...liveCall, from: 'x'.repeat(256) })).toBe(true);
    for (const field of ['from', 'to', 'streamSid', 'profile']) {
      expect(ok(liveCallSchema, { ...liveCall, [field]: 'x'.repeat(257) })).toBe(false);
    }
    expect(ok(liveCallSchema, { ...liveCall, startedAt: 'yesterday' })).toBe(false);
  });
});

describe('controlCommandSchema (what the owner of a call is asked to do)', () => {
  it('takes the three actions in their own shapes', () => {
    expect(ok(controlCommandSchema, { action: 'hangup' })).toBe(true);
    expect(ok(controlCommandSchema, { action: 'transfer', number: '+15550003333' })).toBe(true);
    expect(ok(controlCommandSchema, { action: 'end' })).toBe(true);
    expect(ok(controlCommandSchema, { action: 'end', reason: 'x'.repeat(1000) })).toBe(true);
  });

  it('refuses other actions, missing or extra fields and oversized values', () => {
    for (const command of [
      { action: 'dial', number: '+15550003333' },
      { action: '' },
      { action: 'transfer' },
      { action: 'hangup', number: '+15550003333' },
      { action: 'transfer', number: '+15550003333', twiml: '<Dial/>' },
      { action: 'end', reason: 'x'.repeat(1001) },
      { action: 'transfer', number: 'x'.repeat(257) },
    ]) {
      expect(ok(controlCommandSchema, command)).toBe(false);
    }
  });
});

describe('the control channel (requests and replies)', () => {
  const request = {
    type: 'control',
    id: randomUUID(),
    replyTo: 'bridge-2',
    callSid: SID,
    command: { action: 'hangup' },
  };
  const reply = { type: 'reply', id: randomUUID(), result: { ok: true, status: 'completed' } };

  it('takes a control request and a reply', () => {
    expect(controlChannelSchema.parse(request)).toEqual(request);
    expect(controlChannelSchema.parse(reply)).toEqual(reply);
    expect(ok(controlRequestSchema, request)).toBe(true);
    expect(ok(controlReplySchema, reply)).toBe(true);
  });

  it('refuses a request with a bad id, reply address, call id, command or an extra field', () => {
    for (const bad of [
      { ...request, id: 'not-a-uuid' },
      { ...request, replyTo: 'a b' },
      { ...request, callSid: '' },
      { ...request, command: { action: 'transfer' } },
      { ...request, type: 'reply' },
      { ...request, extra: 1 },
    ]) {
      expect(ok(controlChannelSchema, bad)).toBe(false);
    }
  });

  it('takes only domain results in a reply: an outcome, or an error with its reason', () => {
    const result = (value: unknown) => ({ ...reply, result: value });
    expect(
      ok(controlReplySchema, result({ ok: true, status: 'transferred', to: '+15550001111' })),
    ).toBe(true);
    expect(
      ok(controlReplySchema, result({ ok: false, error: 'refused', reason: 'no transfer number' })),
    ).toBe(true);
    for (const bad of [
      { ok: true, status: 200 },
      { ok: true, status: 'dialled' },
      { ok: false, error: 'teapot', reason: 'x' },
      { ok: false, error: 'refused' },
      { ok: false, error: 'refused', reason: 'x'.repeat(100_000) },
      { ok: true, status: 'completed', extra: 1 },
      { status: 200, body: { ok: true } },
    ]) {
      expect(ok(controlReplySchema, result(bad))).toBe(false);
    }
  });

  it('refuses an event on the control channel', () => {
    const event = {
      type: 'event',
      origin: 'bridge-2',
      event: { event: 'call.ended', callSid: SID },
    };
    expect(ok(controlChannelSchema, event)).toBe(false);
  });
});

describe('call events and records', () => {
  it('takes a call.* event with any other fields, as the owner emitted it', () => {
    const event = { event: 'call.transcript.done', callSid: SID, text: 'hello', n: 1 };
    expect(sharedEventSchema.parse(event)).toEqual(event);
    expect(ok(sharedEventSchema, { event: `call.${'a'.repeat(60)}`, callSid: SID })).toBe(true);
    expect(ok(sharedEventSchema, { event: 'call.dtmf_received', callSid: SID })).toBe(true);
  });

  it('refuses an event name outside call.*, or of another form', () => {
    for (const name of [
      'call.',
      'call',
      'calls.ended',
      'xcall.ended',
      'call.ended ',
      'call.Ended',
      'call.ended\n',
      'call-ended',
      `call.${'a'.repeat(61)}`,
      'tool.ended',
    ]) {
      expect(ok(sharedEventSchema, { event: name, callSid: SID })).toBe(false);
    }
    expect(ok(sharedEventSchema, { event: 'call.ended', callSid: 'a b' })).toBe(false);
  });

  it('takes an event message only with its origin and a valid event', () => {
    const message = {
      type: 'event',
      origin: 'bridge-2',
      event: { event: 'call.ended', callSid: SID },
    };
    expect(ok(eventMessageSchema, message)).toBe(true);
    expect(ok(eventMessageSchema, { ...message, origin: '' })).toBe(false);
    expect(ok(eventMessageSchema, { ...message, event: { event: 'x', callSid: SID } })).toBe(false);
    expect(ok(eventMessageSchema, { ...message, type: 'control' })).toBe(false);
    expect(ok(eventMessageSchema, { ...message, extra: 1 })).toBe(false);
  });

  it('takes a call record with its fields, and refuses one without a valid call or instance', () => {
    const record = { callSid: SID, instance: 'bridge-1', durationS: 12 };
    expect(callRecordSchema.parse(record)).toEqual(record);
    expect(ok(callRecordSchema, { ...record, callSid: 'fake call' })).toBe(false);
    expect(ok(callRecordSchema, { ...record, instance: '' })).toBe(false);
  });

  it('takes a stored plan with a whole, non-negative expiry only', () => {
    expect(ok(storedPlanSchema, { plan: { to: '+1' }, expiresAt: 0 })).toBe(true);
    expect(ok(storedPlanSchema, { plan: 1, expiresAt: -1 })).toBe(false);
    expect(ok(storedPlanSchema, { plan: 1, expiresAt: 1.5 })).toBe(false);
    expect(ok(storedPlanSchema, { plan: 1, expiresAt: 1, extra: 1 })).toBe(false);
  });
});
