import { z } from 'zod';
import { CALL_ID_PATTERN } from '../call/call-id.js';
import { SESSION_KEY_PATTERN } from '../directory/session-store.js';
import { isBase64 } from '../text/json-guards.js';
import { listenOutbound } from './listen.messages.js';
import {
  LISTEN_RELAY_MAX_BATCH_FRAMES,
  MAX_LISTEN_CLIENT_FRAME_BYTES,
} from './listen.constants.js';

/**
 * The listen relay's messages on the cluster bus, checked where they are read (after the signed
 * envelope): an open request on the owner's channel (`bridge:listen:<instance>`), then each
 * session's two channels (`bridge:listen-session:<id>:down` from the owner, `:up` to it), every
 * message numbered from 0 so that a lost, repeated or reordered one ends the session.
 */

const callId = z.string().regex(CALL_ID_PATTERN);
/** INSTANCE_ID's own rule (config/env.schema.ts). */
const instanceId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/);
/** `api` or `console:<digest>`, as the asking instance named the operator. */
const operator = z.string().regex(/^(api|console:[A-Za-z0-9_-]{1,64})$/);
const seq = z.number().int().nonnegative();
const MEDIA_PREFIX = '{"event":"media",';
/**
 * A server frame as the relay carries it: a `media` frame as `[track, timestamp, payload]`
 * (`c`aller or `a`ssistant; some 230 bytes for 20 ms instead of 300, and no JSON inside a JSON
 * string to escape), any other (`start`, acknowledgements, `stop`) as its text.
 */
const relayMedia = z.tuple([
  z.enum(['c', 'a']),
  z.number().int().nonnegative(),
  z.string().max(MAX_LISTEN_CLIENT_FRAME_BYTES).refine(isBase64),
]);
const serverFrame = z.union([z.string().max(MAX_LISTEN_CLIENT_FRAME_BYTES), relayMedia]);
export type RelayFrame = z.output<typeof serverFrame>;

/** What a listener is sent, as the relay carries it. */
export function toRelayFrame(frame: string): RelayFrame {
  if (!frame.startsWith(MEDIA_PREFIX)) return frame;
  const media = JSON.parse(frame) as { track: string; timestamp: number; payload: string };
  return [media.track === 'caller' ? 'c' : 'a', media.timestamp, media.payload];
}

/** The frame a listener gets, from what the relay carried. */
export function fromRelayFrame(frame: RelayFrame): string {
  if (typeof frame === 'string') return frame;
  const [track, timestamp, payload] = frame;
  return listenOutbound.mediaBase64(track === 'c' ? 'caller' : 'assistant', timestamp, payload);
}

export const relayOpenSchema = z.strictObject({
  type: z.literal('open'),
  session: z.uuid(),
  callSid: callId,
  operator,
  from: instanceId,
  /** The console session's key: the owner checks it before a takeover, and ends with it. */
  consoleSession: z.string().regex(SESSION_KEY_PATTERN).optional(),
});
export type RelayOpen = z.output<typeof relayOpenSchema>;

/** A relay session's answer to its open request, and its keepalive (this relay's and others'). */
export const relayOpenedSchema = z.strictObject({ type: z.literal('opened'), seq });
export const relayRefusedSchema = z.strictObject({
  type: z.literal('refused'),
  seq,
  status: z.number().int().min(400).max(599),
  message: z.string().max(300),
});
export const relayPingSchema = z.strictObject({ type: z.literal('ping'), seq });

/** Owner to asker. `close` ends the far socket with the owner's code and reason. */
export const relayDownSchema = z.discriminatedUnion('type', [
  relayOpenedSchema,
  relayRefusedSchema,
  z.strictObject({
    type: z.literal('frames'),
    seq,
    frames: z.array(serverFrame).min(1).max(LISTEN_RELAY_MAX_BATCH_FRAMES),
  }),
  relayPingSchema,
  z.strictObject({
    type: z.literal('close'),
    seq,
    code: z.number().int().min(1000).max(4999),
    reason: z.string().max(123),
  }),
]);
export type RelayDown = z.output<typeof relayDownSchema>;

/** Asker to owner: the client's frames (`null` for a binary frame, which the owner ignores). */
export const relayUpSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('frames'),
    seq,
    frames: z
      .array(z.string().max(MAX_LISTEN_CLIENT_FRAME_BYTES).nullable())
      .min(1)
      .max(LISTEN_RELAY_MAX_BATCH_FRAMES),
  }),
  relayPingSchema,
  z.strictObject({ type: z.literal('close'), seq }),
]);
export type RelayUp = z.output<typeof relayUpSchema>;

/** A message as a side writes it: the link numbers it. */
export type Unnumbered<M> = M extends unknown ? Omit<M, 'seq'> : never;
