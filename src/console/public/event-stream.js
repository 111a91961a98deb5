// A console event stream that outlives a refusal. EventSource reconnects by itself after a
// dropped connection, but gives up for good (readyState CLOSED) on any answer other than 200, as
// the HTML standard says; and the data routes answer 503 while the cluster's Redis is away
// (docs/console.md). Without this, a stream that ended during an outage (a relayed call's view,
// when the bus failed) and came back to a 503 left the page frozen after Redis was back.
import { ApiError, consoleUrl } from './lib.js';

/** The wait before the first try to open again a stream the browser gave up on; then doubled. */
export const STREAM_RETRY_FIRST_MS = 1_000;
/** The longest wait between two tries: an outage of minutes costs a request every 15 s. */
export const STREAM_RETRY_MAX_MS = 15_000;

/**
 * Follows the server-sent events at `path` (under the console): `events` maps an event's name to
 * what takes its parsed data. `onState` hears `live` (open), `reconnecting` (dropped; the page
 * says what it shows may be out of date) and `stopped` (for good, see below).
 *
 * When the browser has given up, `check()` asks a data route why, since EventSource tells no
 * status: it resolves true to open the stream again after the backoff, false to stop (nothing
 * more to follow). A 401 stops and calls `onLoggedOut` (the session is gone); any other failure,
 * a 503 while Redis is away or the network, tries again after the backoff: a 503 does not mean
 * the operator is logged out, and /console/session cannot tell (it says unauthenticated then).
 *
 * Returns `close()`: the page stops following (it unmounted, or the call ended).
 */
export function followStream(path, { events, onState, check, onLoggedOut }) {
  let source;
  let timer;
  let closed = false;
  let delay = STREAM_RETRY_FIRST_MS;

  const close = () => {
    closed = true;
    clearTimeout(timer);
    source?.close();
  };
  const stop = () => {
    close();
    onState('stopped');
  };
  const gaveUp = async () => {
    let again;
    try {
      again = await check();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        if (!closed) onLoggedOut?.();
        again = false;
      } else {
        again = true;
      }
    }
    if (closed) return;
    if (!again) return stop();
    timer = setTimeout(open, delay);
    delay = Math.min(delay * 2, STREAM_RETRY_MAX_MS);
  };
  const open = () => {
    source = new EventSource(consoleUrl(path));
    for (const [name, take] of Object.entries(events)) {
      source.addEventListener(name, (e) => {
        if (!closed) take(JSON.parse(e.data));
      });
    }
    source.onopen = () => {
      delay = STREAM_RETRY_FIRST_MS;
      onState('live');
    };
    source.onerror = () => {
      if (closed) return;
      onState('reconnecting');
      // CONNECTING: the browser tries again by itself (a dropped connection, a stream the
      // server ended at its lifetime). CLOSED: it never will, so this does.
      if (source.readyState === EventSource.CLOSED) void gaveUp();
    };
  };

  open();
  return { close };
}
