import type { RelayBounds } from '../listen/relay-link.js';

/*
 * Every bound of the stream relay (cluster mode): an event stream opened on an instance that
 * does not carry the call (the console's call view, the API's call events) is followed on the
 * call's owner and its events relayed over the signed cluster bus (docs/security.md).
 */

/** Relayed streams an instance holds at once as the asking side; beyond, 503. */
export const MAX_RELAYED_STREAMS = 100;
/** The owner must accept or refuse within this; 504 otherwise. */
export const STREAM_RELAY_OPEN_TIMEOUT_MS = 2_000;
/**
 * One relayed event's bytes as sealed on the bus (a string in the batch's JSON, quoted again by
 * the envelope: up to 4x its own size): half of MAX_BUS_MESSAGE_BYTES. An event over it is
 * shrunk by its stream when it can be (a console snapshot keeps fewer entries), or ends the
 * stream (its client opens it again).
 */
export const MAX_RELAYED_EVENT_BYTES = 128 * 1024;
/**
 * What one relayed stream may put on the bus, counted as sealed: a snapshot or a backlog at
 * once, then events as they happen. A batch stays within one event's bound.
 */
export const STREAM_RELAY_BOUNDS: RelayBounds = {
  bytesPerS: 2 * MAX_RELAYED_EVENT_BYTES,
  maxQueuedFrames: 200,
  batchFrames: 20,
  batchBytes: MAX_RELAYED_EVENT_BYTES,
};
/** Open requests remembered (for twice the bus window) so a captured one opens nothing. */
export const STREAM_RELAY_MAX_SEEN_OPENS = 10_000;
