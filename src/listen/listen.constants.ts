import { REDIS_COMMAND_TIMEOUT_MS } from '../directory/cluster.constants.js';

/** Every bound of listen-in (`/api/calls/:callSid/listen`), named in one place (docs/security.md). */

/** The API's listen socket, and the console's (its cookie is scoped to /console). */
export const LISTEN_ROUTES = [
  { path: '/api/calls/:callSid/listen', kind: 'api' },
  { path: '/console/api/calls/:callSid/listen', kind: 'console' },
] as const;

/**
 * The largest frame a listen client may send (ws closes the socket with 1009 beyond): an
 * operator's `media` frame is 20 ms of audio (216 base64 characters); this allows a second.
 */
export const MAX_LISTEN_CLIENT_FRAME_BYTES = 16 * 1024;
/** Frames a second a listen client may send (a burst of as many); beyond them, ignored. */
export const MAX_LISTEN_CLIENT_FRAMES_PER_S = 100;
/** Ignored frames (over the rate, malformed) after which the client is closed (1008). */
export const MAX_LISTEN_CLIENT_IGNORED_FRAMES = 500;

/**
 * Frames waiting for a listener that does not read: past LISTENER_HIGH_WATER_BYTES in the
 * socket's own buffer, then LISTENER_MAX_BACKLOG_FRAMES (about 2 s of both tracks) in ours. A
 * listener that falls that far behind is dropped (closed 1008), never buffered without limit.
 */
export const LISTENER_HIGH_WATER_BYTES = 64 * 1024;
export const LISTENER_MAX_BACKLOG_FRAMES = 200;

/**
 * A listen socket is pinged this often; one that answered nothing for a whole interval is closed
 * (its line, if it held it, handed back). A holder gone without a close (off the network) would
 * otherwise leave the caller in silence, the assistant muted, until TCP gave up.
 */
export const LISTEN_PING_INTERVAL_MS = 5_000;

/**
 * A console socket that closes with takeover or handback frames still waiting on their session
 * check gives them this long to be acted on (the note of a handback sent just before closing the
 * tab reaches the model) before a line it still holds is handed back regardless: a check gets its
 * answer, or its Redis command times out, within it. The caller hears nobody meanwhile, so no
 * longer than that.
 */
export const LISTEN_CLOSE_SETTLE_MS = REDIS_COMMAND_TIMEOUT_MS + 500;

/*
 * The listen relay (cluster mode): a listen socket opened on an instance that does not carry the
 * call, relayed over the signed cluster bus to the owner. A listened call is about 16 KB/s of
 * audio (two tracks of 8 KB/s mu-law), a third more as base64 in JSON.
 */

/** Relay sessions an instance holds at once, as the asking side and as the owner (each). */
export const LISTEN_RELAY_MAX_SESSIONS = 100;
/** The owner must accept or refuse within this (the upgrade router's deadline is 1 s): 504. */
export const LISTEN_RELAY_OPEN_TIMEOUT_MS = 800;
/** Bytes a second a session may put on the bus, each way (a burst of as many). */
export const LISTEN_RELAY_MAX_BYTES_PER_S = 64 * 1024;
/** Frames waiting for the bus, per session and direction; past it the session ends (1008). */
export const LISTEN_RELAY_MAX_QUEUED_FRAMES = 200;
/** Frames and bytes in one bus message (well under MAX_BUS_MESSAGE_BYTES). */
export const LISTEN_RELAY_MAX_BATCH_FRAMES = 50;
export const LISTEN_RELAY_MAX_BATCH_BYTES = 64 * 1024;
/** Each side sends a ping after this long without sending anything. */
export const LISTEN_RELAY_KEEPALIVE_MS = 2_000;
/** A side that heard nothing from the other for this long ends the session (the peer died). */
export const LISTEN_RELAY_SILENCE_MS = 6_000;
/** A session vetted on the asking side whose WebSocket never came is ended after this. */
export const LISTEN_RELAY_ATTACH_MS = 5_000;
/** Open requests remembered (for twice the bus window) so a captured one opens nothing. */
export const LISTEN_RELAY_MAX_SEEN_OPENS = 10_000;
