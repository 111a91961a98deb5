// One call's detail as the server pushes it (api/calls/:sid/live), kept following through outages.
import { api, ApiError, useEffect, useState } from './lib.js';
import { followStream } from './event-stream.js';

/**
 * A call's detail: a snapshot, then entries and figures pushed by the server until it ends. A
 * snapshot over the server's event bound (a long call's hundreds of entries) arrives with only
 * its newest entries, or as a stub without `call` or `entries`, marked `truncated: true`: the
 * detail is then read from the JSON route, which has no such bound, and what the stream pushes
 * meanwhile is applied once it is in.
 *
 * A stream the browser gave up on (a 503 while Redis is away) is opened again (followStream):
 * its first event is a fresh snapshot, which replaces the detail whole, so nothing the old
 * stream pushed is counted twice. `stream` is `reconnecting` meanwhile, for the page to say so.
 */
export function useCallDetail(callSid) {
  const [detail, setDetail] = useState(undefined);
  const [missing, setMissing] = useState(false);
  const [stream, setStream] = useState('connecting');
  useEffect(() => {
    const sid = encodeURIComponent(callSid);
    let closed = false;
    // Events that came while the full detail was being fetched (undefined: not fetching).
    let pending;
    // Snapshots taken so far: a fetch begun for an earlier stream's is dropped, not applied.
    let snapshots = 0;
    const apply = (change) => (pending ? pending.push(change) : setDetail(change));
    // Gone (404), or the session is (401): say so rather than show a stub, if nothing is shown.
    const noLonger = () =>
      setDetail((d) => {
        if (!d) setMissing(true);
        return d;
      });
    const fetchDetail = async () => {
      const generation = snapshots;
      pending = [];
      try {
        const full = await api(`api/calls/${sid}`);
        if (closed || generation !== snapshots) return;
        const queued = pending;
        pending = undefined;
        setDetail(newSince(full, queued).reduce((d, change) => change(d), full));
      } catch {
        if (closed || generation !== snapshots) return;
        pending = undefined;
        noLonger();
      }
    };
    // Why the stream was refused, from the JSON route (EventSource tells no status).
    const check = async () => {
      try {
        const full = await api(`api/calls/${sid}`);
        if (!full.record) return true;
        // It ended meanwhile: its stream would now answer 404, and the record is the last word.
        snapshots++;
        pending = undefined;
        setDetail(full);
        return false;
      } catch (err) {
        if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 401)) throw err;
        noLonger();
        return false;
      }
    };
    const following = followStream(`api/calls/${sid}/live`, {
      onState: setStream,
      check,
      events: {
        snapshot: (snapshot) => {
          snapshots++;
          if (!snapshot.call || !Array.isArray(snapshot.entries) || snapshot.truncated) {
            void fetchDetail();
            return;
          }
          pending = undefined;
          setDetail(snapshot);
        },
        entry: (entry) => {
          const change = (d) =>
            d && { ...d, entries: markInterrupted([...d.entries, entry], entry) };
          change.entry = entry;
          apply(change);
        },
        stats: (stats) =>
          apply((d) => d && { ...d, stats, call: { ...d.call, state: stats.state } }),
        ended: (record) => {
          apply((d) => d && { ...d, record, call: { ...d.call, state: 'ended' } });
          // Finished: stop, or the page would reconnect to a stream that has nothing more.
          following.close();
          setStream('stopped');
        },
      },
    });
    return () => {
      closed = true;
      following.close();
    };
  }, [callSid]);
  return { detail, missing, stream };
}

/**
 * The queued changes the fetched detail does not hold yet: an entry pushed while the request was
 * in flight may have been kept before the server answered. Entries carry no id, so the same JSON
 * among the last entries is taken for the same entry.
 */
function newSince(full, queued) {
  const tail = new Set(full.entries.slice(-queued.length).map((entry) => JSON.stringify(entry)));
  return queued.filter((change) => !change.entry || !tail.has(JSON.stringify(change.entry)));
}

/** A barge-in cuts an assistant turn that may already be in the transcript. */
function markInterrupted(entries, entry) {
  if (entry.kind !== 'interruption') return entries;
  return entries.map((e) =>
    e.kind === 'turn' && e.itemId === entry.itemId ? { ...e, interrupted: true } : e,
  );
}
