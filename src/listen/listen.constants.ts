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
