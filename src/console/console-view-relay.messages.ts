import { z } from 'zod';
import { CALL_ID_PATTERN } from '../call/call-id.js';
import type { SseFrame } from '../http/sse-stream.js';
import { MAX_SSE_EVENT_BYTES } from '../http/sse.constants.js';
import { CONSOLE_VIEW_RELAY_BOUNDS } from './console.constants.js';

/**
 * The console's call view relay on the cluster bus, checked where it is read (after the signed
 * envelope): an open request on the owner's channel (`bridge:console-view:<instance>`), then
 * each session's two channels (`...:down` from the owner, `:up` to it), numbered from 0 as the
 * listen relay's (listen/relay-link.ts). The owner's frames are the call view's server-sent
 * events as written on the wire, one of the four the view has.
 */

const seq = z.number().int().nonnegative();
/** An event of the call view (console-followers.ts), whole: `event: x\ndata: {...}\n\n`. */
const VIEW_FRAME = /^event: (snapshot|entry|stats|ended)\ndata: [^\n]*\n\n$/;
const viewFrame = z
  .string()
  .max(MAX_SSE_EVENT_BYTES + 64)
  .regex(VIEW_FRAME)
  .transform((frame) => frame as SseFrame);

/** How a snapshot event starts on the wire. */
export const SNAPSHOT_PREFIX = 'event: snapshot\ndata: ';

/** An event's bytes once on the bus: a string in the batch's JSON, which the envelope quotes again. */
export function sealedBytes(frame: string): number {
  return Buffer.byteLength(JSON.stringify(JSON.stringify(frame)));
}

export const viewOpenSchema = z.strictObject({
  type: z.literal('open'),
  session: z.uuid(),
  callSid: z.string().regex(CALL_ID_PATTERN),
  /** INSTANCE_ID's own rule (config/env.schema.ts). */
  from: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/),
});
export type ViewOpen = z.output<typeof viewOpenSchema>;

/** Owner to asker; `close` ends the asker's stream with the owner's reason. */
export const viewDownSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('opened'), seq }),
  z.strictObject({
    type: z.literal('refused'),
    seq,
    status: z.number().int().min(400).max(599),
    message: z.string().max(300),
  }),
  z.strictObject({
    type: z.literal('frames'),
    seq,
    frames: z.array(viewFrame).min(1).max(CONSOLE_VIEW_RELAY_BOUNDS.batchFrames),
  }),
  z.strictObject({ type: z.literal('ping'), seq }),
  z.strictObject({ type: z.literal('close'), seq, reason: z.string().max(300).optional() }),
]);
export type ViewDown = z.output<typeof viewDownSchema>;

/** Asker to owner: only that it is still there, or gone. */
export const viewUpSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ping'), seq }),
  z.strictObject({ type: z.literal('close'), seq }),
]);
export type ViewUp = z.output<typeof viewUpSchema>;
