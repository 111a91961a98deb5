import { z } from 'zod';
import { CALL_ID_PATTERN } from '../call/call-id.js';
import { sseFrame, sseFrameParts, type SseFrame } from '../http/sse-stream.js';
import { MAX_SSE_EVENT_BYTES } from '../http/sse.constants.js';
import {
  relayOpenedSchema,
  relayPingSchema,
  relayRefusedSchema,
} from '../listen/listen-relay.messages.js';
import { MAX_RELAYED_EVENT_BYTES, STREAM_RELAY_BOUNDS } from './stream-relay.constants.js';

/**
 * The stream relay on the cluster bus, checked where it is read (after the signed envelope): an
 * open request on the owner's channel (`bridge:stream-relay:<instance>`), then each session's
 * two channels (`...:down` from the owner, `:up` to it), numbered from 0 as the listen relay's
 * (listen/relay-link.ts). The owner's frames are server-sent events as written on the wire.
 */

/** The streams that can be relayed: the console's call view, the API's call events. */
export const STREAM_KINDS = ['console-view', 'call-events'] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

const seq = z.number().int().nonnegative();
/** One event, whole: `event: name\ndata: {...}\n\n` (sseFrame's form). */
const EVENT_FRAME = /^event: [a-z][a-z._-]{0,63}\ndata: [^\n]*\n\n$/;
const eventFrame = z
  .string()
  .max(MAX_SSE_EVENT_BYTES + 128)
  .regex(EVENT_FRAME)
  .transform((frame) => frame as SseFrame);

/** An event's bytes once on the bus: a string in the batch's JSON, which the envelope quotes again. */
export function sealedBytes(frame: string): number {
  return Buffer.byteLength(JSON.stringify(JSON.stringify(frame)));
}

/** The smallest bound an event is cut to for the bus (sealed, it may grow to about 4x). */
const MIN_RELAYED_EVENT_JSON_BYTES = 4 * 1024;

/**
 * Any event too big for the bus once sealed (MAX_RELAYED_EVENT_BYTES), cut as sseEventJson
 * cuts one for a client (strings shortened and marked, or a stub marked `truncated`) to half
 * the client's bound, then half again, until it fits; undefined if even the smallest does not.
 */
export function eventWithinRelay(frame: SseFrame): SseFrame | undefined {
  const { event, data } = sseFrameParts(frame);
  for (let bound = MAX_SSE_EVENT_BYTES / 2; bound >= MIN_RELAYED_EVENT_JSON_BYTES; bound /= 2) {
    const smaller = sseFrame(event, data, bound);
    if (sealedBytes(smaller) <= MAX_RELAYED_EVENT_BYTES) return smaller;
  }
  return undefined;
}

export const relayOpenSchema = z.strictObject({
  type: z.literal('open'),
  session: z.uuid(),
  kind: z.enum(STREAM_KINDS),
  callSid: z.string().regex(CALL_ID_PATTERN),
  /** INSTANCE_ID's own rule (config/env.schema.ts). */
  from: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/),
});
export type StreamOpen = z.output<typeof relayOpenSchema>;

/** Owner to asker; `close` ends the asker's stream with the owner's reason. */
export const relayDownSchema = z.discriminatedUnion('type', [
  relayOpenedSchema,
  relayRefusedSchema,
  z.strictObject({
    type: z.literal('frames'),
    seq,
    frames: z.array(eventFrame).min(1).max(STREAM_RELAY_BOUNDS.batchFrames),
  }),
  relayPingSchema,
  z.strictObject({ type: z.literal('close'), seq, reason: z.string().max(300).optional() }),
]);
export type StreamDown = z.output<typeof relayDownSchema>;

/** Asker to owner: only that it is still there, or gone. */
export const relayUpSchema = z.discriminatedUnion('type', [
  relayPingSchema,
  z.strictObject({ type: z.literal('close'), seq }),
]);
export type StreamUp = z.output<typeof relayUpSchema>;
