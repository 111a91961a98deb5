/** Every bound of the server-sent event streams (the call-events API and the console), in one place. */

/** A comment line this often keeps an idle stream open through proxies. */
export const SSE_HEARTBEAT_MS = 15_000;
/** What a client's EventSource waits before reconnecting after the stream ends. */
export const SSE_RETRY_MS = 2000;
/**
 * One event's `data` (UTF-8 bytes of its JSON). A bigger one is sent with its text cut (each
 * string ending in `…[truncated]`), or as a stub that says `"truncated": true`: never whole, so
 * one event cannot fill a reader's backlog and get it dropped.
 */
export const MAX_SSE_EVENT_BYTES = 64 * 1024;
/**
 * Unread bytes a stream may hold for a reader before the next write. A reader this far behind is
 * not reading: the stream ends with a last `: dropped: not reading fast enough` comment (and is
 * destroyed if even that cannot be queued), rather than holding ever more for it. At least one
 * whole event (MAX_SSE_EVENT_BYTES), so a reader that keeps up is never dropped for one large
 * event; at most this plus one event is held per reader.
 */
export const MAX_SSE_BACKLOG_BYTES = 64 * 1024;
