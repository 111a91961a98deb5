// The live calls table, fed by server-sent events, with Hang up and Transfer.
import {
  api,
  Field,
  formatDuration,
  html,
  StatePill,
  useEffect,
  useState,
  visible,
} from './lib.js';
import { followStream } from './event-stream.js';

/** The calls in progress, as the server pushes them (`calls` events on /console/api/live). */
export function useLiveCalls(onLoggedOut) {
  const [table, setTable] = useState({ calls: [] });
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const following = followStream('api/live', {
      events: {
        calls: (calls) => {
          setTable(calls);
          setConnected(true);
        },
      },
      onState: (state) => setConnected(state === 'live'),
      // A refused stream: a data route tells a lost session (401: log out) from an outage.
      check: () => api('api/me').then(() => true),
      onLoggedOut,
    });
    return following.close;
  }, []);
  return { calls: table.calls, partial: table.partial === true, connected };
}

/** Re-renders every `ms` so durations tick. */
export function useNow(ms = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

export function CallsTable({ calls, partial, me, selected, onSelect, notify }) {
  const now = useNow();
  const showInstance = calls.some((c) => c.instance);
  // Media streams are the rule: the column appears when a SIP call is among them.
  const showTransport = calls.some((c) => c.transport && c.transport !== 'media');

  const hangUp = async (call, event) => {
    event.stopPropagation();
    if (!window.confirm(`Hang up the call from ${visible(call.from ?? 'unknown caller')}?`)) return;
    try {
      await api(`api/calls/${encodeURIComponent(call.callSid)}/hangup`, {
        method: 'POST',
      });
      notify(`Hung up ${visible(call.from ?? call.callSid)}`, 'ok');
    } catch (err) {
      notify(`Hang-up failed: ${err.message}`, 'error');
    }
  };

  const transfer = async (call, event) => {
    event.stopPropagation();
    const allowed = me?.transferNumbers ?? [];
    const who = visible(call.from ?? 'the caller');
    // One allowed number: confirm it; several: ask which (the server checks the list again).
    let to = allowed[0];
    if (allowed.length === 1) {
      if (!window.confirm(`Transfer ${who} to ${to}?`)) return;
    } else {
      to = window
        .prompt(`Transfer ${who} to which number?\nAllowed: ${allowed.join(', ')}`, to)
        ?.trim();
      if (!to) return;
      if (!allowed.includes(to)) {
        notify(`${to} is not an allowed transfer number`, 'error');
        return;
      }
    }
    try {
      await api(`api/calls/${encodeURIComponent(call.callSid)}/transfer`, {
        method: 'POST',
        body: { to },
      });
      notify(`Transferring ${who} to ${to}`, 'ok');
    } catch (err) {
      notify(`Transfer failed: ${err.message}`, 'error');
    }
  };

  const canTransfer = (me?.transferNumbers?.length ?? 0) > 0;
  return html` <div class="card">
    <div class="card-head">
      <h2>Live calls</h2>
      <span class="muted">updates by itself</span>
    </div>
    ${
      partial &&
      html`<p class="error partial-list" role="status" data-testid="partial-calls">
        The cluster's shared store cannot be reached: only this instance's calls are listed.
        Calls on other instances go on.
      </p>`
    }
    <div class="table-wrap">
      <table class="calls">
        <thead>
          <tr>
            <th>Caller</th>
            <th>Dialled</th>
            <th>Direction</th>
            <th>Profile</th>
            <th class="num">Duration</th>
            <th>State</th>
            ${showInstance && html`<th>Instance</th>`} ${showTransport && html`<th>Transport</th>`}
            <th class="actions-col"><span class="sr-only">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          ${
            calls.length === 0 &&
            html`<tr class="no-calls">
              <td colspan="9">
                No calls right now. They appear here as soon as their stream starts.
              </td>
            </tr>`
          }
          ${calls.map(
            (call) =>
              html` <tr
                key=${call.callSid}
                data-call-sid=${call.callSid}
                class=${call.callSid === selected ? 'selected' : ''}
                onClick=${() => onSelect(call.callSid)}
              >
                <td class="phone">
                  <button class="row-open" data-action="open-call" title="Open this call">
                    <${Field} value=${call.from} />
                  </button>
                </td>
                <td class="phone"><${Field} value=${call.to} /></td>
                <td>
                  <span class=${`dir dir-${call.direction}`}
                    >${call.direction === 'outbound' ? '↗ out' : '↙ in'}</span
                  >
                </td>
                <td>
                  <${Field}
                    value=${call.profile}
                    mono=${false}
                    fallback=${html`<span class="muted">default</span>`}
                  />
                </td>
                <td class="num mono">
                  ${formatDuration((now - Date.parse(call.startedAt)) / 1000)}
                </td>
                <td><${StatePill} state=${call.state} /></td>
                ${showInstance && html`<td><${Field} value=${call.instance} /></td>`}
                ${showTransport && html`<td>${call.transport ?? '–'}</td>`}
                <td class="actions">
                  <button
                    class="danger small"
                    data-action="hangup"
                    onClick=${(e) => hangUp(call, e)}
                    title="End this call now"
                  >
                    Hang up
                  </button>
                  <button
                    class="small"
                    data-action="transfer"
                    onClick=${(e) => transfer(call, e)}
                    disabled=${!canTransfer}
                    title=${canTransfer ? 'Hand the caller over to a number' : 'Set TRANSFER_NUMBER or TRANSFER_ALLOWED_NUMBERS to transfer'}
                  >
                    Transfer
                  </button>
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </div>`;
}
