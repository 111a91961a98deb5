import { z } from 'zod';
import { CALL_ID_PATTERN } from '../call/call-id.js';
import {
  CONTROL_ERRORS,
  CONTROL_OUTCOMES,
  MAX_CONTROL_REASON_CHARS,
  type CallRecordEntry,
  type ControlCommand,
  type ControlResult,
  type LiveCall,
  type SharedCallEvent,
} from './call-directory.js';
import { SESSION_KEY_PATTERN } from './session-store.js';

/**
 * The shapes of everything read back from Redis, checked where it is read (after the envelope's
 * signature): a signed message from a buggy or older instance is still refused if it is not one
 * of these. Bounds are generous for real values and keep a message from carrying anything large.
 */

/** A CallSid, a SIP call id or anything shaped like one (the owner checks the exact rules). */
const callId = z.string().regex(CALL_ID_PATTERN);
/** INSTANCE_ID's own rule (config/env.schema.ts). */
const instanceId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/);
const shortText = z.string().max(256);
const messageId = z.uuid();

export const liveCallSchema = z.object({
  callSid: callId,
  instance: instanceId,
  from: shortText.optional(),
  to: shortText.optional(),
  startedAt: z.iso.datetime(),
  direction: z.enum(['inbound', 'outbound']),
  streamSid: shortText.optional(),
  profile: shortText.optional(),
  transport: z.enum(['media', 'sip']).optional(),
}) satisfies z.ZodType<LiveCall>;

export const controlCommandSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('hangup') }),
  z.strictObject({
    action: z.literal('transfer'),
    number: shortText,
    announce: z.boolean().optional(),
  }),
  // The owner checks the sentence's own bound (MAX_SAY_CHARS); this one only keeps it small.
  z.strictObject({ action: z.literal('say'), text: z.string().max(4_000) }),
  z.strictObject({ action: z.literal('end'), reason: z.string().max(1_000).optional() }),
]) satisfies z.ZodType<ControlCommand>;

const controlResultSchema = z.discriminatedUnion('ok', [
  z.strictObject({
    ok: z.literal(true),
    status: z.enum(CONTROL_OUTCOMES),
    to: shortText.optional(),
  }),
  z.strictObject({
    ok: z.literal(false),
    error: z.enum(CONTROL_ERRORS),
    reason: z.string().max(MAX_CONTROL_REASON_CHARS),
  }),
]) satisfies z.ZodType<ControlResult>;

/** A `call.*` event: its own name and call, any other fields as the owner emitted them. */
export const sharedEventSchema = z.looseObject({
  event: z.string().regex(/^call\.[a-z_.]{1,60}$/),
  callSid: callId,
}) satisfies z.ZodType<SharedCallEvent>;

export const callRecordSchema = z.looseObject({
  callSid: callId,
  instance: instanceId,
}) satisfies z.ZodType<CallRecordEntry>;

export const controlRequestSchema = z.strictObject({
  type: z.literal('control'),
  id: messageId,
  replyTo: instanceId,
  callSid: callId,
  command: controlCommandSchema,
});
export type ControlRequest = z.output<typeof controlRequestSchema>;

export const controlReplySchema = z.strictObject({
  type: z.literal('reply'),
  id: messageId,
  result: controlResultSchema,
});
export type ControlReply = z.output<typeof controlReplySchema>;

export const eventMessageSchema = z.strictObject({
  type: z.literal('event'),
  origin: instanceId,
  event: sharedEventSchema,
});
export type EventMessage = z.output<typeof eventMessageSchema>;

/** An instance's beat on its own control channel: its subscriber still hears (SubscriberWatch). */
export const controlBeatSchema = z.strictObject({ type: z.literal('beat') });

/**
 * What travels on an instance's control channel: requests for it, answers to its own, and its
 * own beat.
 */
export const controlChannelSchema = z.discriminatedUnion('type', [
  controlRequestSchema,
  controlReplySchema,
  controlBeatSchema,
]);

/** A plan as stored: the plan itself and when it stops being valid (signed with it). */
export const storedPlanSchema = z.strictObject({
  plan: z.unknown(),
  expiresAt: z.number().int().nonnegative(),
});

/** A console session as stored under its keyed hash: when it expires (signed with it). */
export const storedSessionSchema = z.strictObject({
  expiresAt: z.number().int().nonnegative(),
});

/** Console sessions ended before their time (a logout, the oldest past MAX_SESSIONS). */
export const sessionsEndedSchema = z.strictObject({
  type: z.literal('sessions-ended'),
  keys: z.array(z.string().regex(SESSION_KEY_PATTERN)).min(1).max(100),
});
export type SessionsEnded = z.output<typeof sessionsEndedSchema>;
