// The call history: ended calls kept in the database, filtered and searched; a call's page with
// what the caller heard, the tool calls, the figures and the recording; CSV export; erasure.
import {
  api,
  consoleUrl,
  Field,
  formatDuration,
  html,
  useEffect,
  useRef,
  useState,
  visible,
} from './lib.js';

const OUTCOMES = ['completed', 'transferred', 'timeout', 'failed', 'refused', 'shutdown', 'lost'];
const EMPTY_FILTERS = { from: '', to: '', number: '', outcome: '', q: '' };

/** The list's query string: the filters set, dates as ISO (a `to` date counts to its end). */
function queryOf(filters, extra = {}) {
  const params = new window.URLSearchParams();
  for (const [key, value] of Object.entries(filters)) {
    if (!value) continue;
    if (key === 'from') params.set(key, new Date(`${value}T00:00:00`).toISOString());
    else if (key === 'to') params.set(key, new Date(`${value}T23:59:59.999`).toISOString());
    else params.set(key, value);
  }
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  return params.toString();
}

function formatDateTime(iso) {
  return new Date(iso).toLocaleString([], {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
}

function formatCost(usd) {
  return usd === null || usd === undefined ? '–' : `$${usd.toFixed(4)}`;
}

function formatAt(ms) {
  return formatDuration(ms / 1000);
}

export function HistoryView({ notify }) {
  const [filters, setFilters] = useState(EMPTY_FILTERS);
  const [applied, setApplied] = useState(EMPTY_FILTERS);
  const [page, setPage] = useState({ calls: [], next: null, loading: true });
  const [open, setOpen] = useState(undefined);

  const load = async (wanted, cursor) => {
    try {
      const result = await api(`api/history?${queryOf(wanted, cursor ? { cursor } : {})}`);
      setPage((before) => ({
        calls: cursor ? [...before.calls, ...result.calls] : result.calls,
        next: result.next,
        loading: false,
      }));
    } catch (err) {
      setPage((before) => ({ ...before, loading: false }));
      notify(err.message, 'error');
    }
  };

  useEffect(() => {
    if (!open) void load(applied);
  }, [applied, open]);

  if (open) {
    return html`<${HistoryCall}
      callSid=${open}
      notify=${notify}
      onClose=${() => setOpen(undefined)}
    />`;
  }

  const set = (key) => (event) => setFilters({ ...filters, [key]: event.currentTarget.value });
  const search = (event) => {
    event.preventDefault();
    setApplied({ ...filters });
  };

  return html` <div class="card history">
    <div class="card-head">
      <h2>Call history</h2>
      <a
        class="button ghost"
        data-action="history-csv"
        href=${consoleUrl(`api/history?${queryOf(applied, { format: 'csv' })}`)}
        download="call-history.csv"
        >Export CSV</a
      >
    </div>
    <form class="history-filters" onSubmit=${search}>
      <label>From <input type="date" data-filter="from" value=${filters.from} onInput=${set('from')} /></label>
      <label>To <input type="date" data-filter="to" value=${filters.to} onInput=${set('to')} /></label>
      <label
        >Number
        <input data-filter="number" placeholder="+15551234567" value=${filters.number} onInput=${set('number')}
      /></label>
      <label
        >Outcome
        <select data-filter="outcome" value=${filters.outcome} onChange=${set('outcome')}>
          <option value="">any</option>
          ${OUTCOMES.map((o) => html`<option value=${o}>${o}</option>`)}
        </select></label
      >
      <label class="grow"
        >Transcript
        <input data-filter="q" placeholder="words the caller or the assistant said" value=${filters.q} onInput=${set('q')}
      /></label>
      <button class="primary" type="submit" data-action="history-search">Search</button>
    </form>
    ${
      page.calls.length === 0
        ? html`<p class="muted" data-history-empty>
            ${page.loading ? 'Loading…' : 'No call matches.'}
          </p>`
        : html`<div class="table-wrap">
            <table class="recent">
              <thead>
                <tr>
                  <th>Ended</th>
                  <th>Caller</th>
                  <th>Dialled</th>
                  <th class="num">Duration</th>
                  <th>Outcome</th>
                  <th class="num">Barge-ins</th>
                  <th class="num">Cost</th>
                  <th>Recording</th>
                </tr>
              </thead>
              <tbody>
                ${page.calls.map(
                  (c) =>
                    html`<tr
                      key=${c.callSid}
                      data-history-call-sid=${c.callSid}
                      onClick=${() => setOpen(c.callSid)}
                    >
                      <td>
                        <button class="row-open mono" data-action="open-history">
                          ${formatDateTime(c.endedAt)}
                        </button>
                      </td>
                      <td class="phone"><${Field} value=${c.from} /></td>
                      <td class="phone"><${Field} value=${c.to} /></td>
                      <td class="num mono">${formatDuration(c.durationS)}</td>
                      <td><span class=${`tag outcome-${c.outcome}`} title=${c.reason}>${c.outcome}</span></td>
                      <td class="num">${c.interruptions}</td>
                      <td class="num">${formatCost(c.costUsd)}</td>
                      <td>${c.recording && !c.recording.failed ? formatAt(c.recording.durationMs) : '–'}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
    ${
      page.next &&
      html`<button class="ghost" data-action="history-more" onClick=${() => load(applied, page.next)}>
        Load more
      </button>`
    }
  </div>`;
}

/** One call: figures, recording, transcript (a click seeks the recording), tools, erasure. */
function HistoryCall({ callSid, notify, onClose }) {
  const [call, setCall] = useState(undefined);
  const audio = useRef(null);

  useEffect(() => {
    api(`api/history/${callSid}`).then(setCall, (err) => {
      notify(err.message, 'error');
      onClose();
    });
  }, [callSid]);

  const erase = async () => {
    if (!window.confirm(`Erase call ${callSid}? Its record and recording are deleted for good.`))
      return;
    try {
      await api(`api/history/${callSid}`, { method: 'DELETE' });
      notify(`call ${callSid} erased`);
      onClose();
    } catch (err) {
      notify(err.message, 'error');
    }
  };

  const seek = (turn) => {
    if (audio.current) audio.current.currentTime = turn.atMs / 1000;
  };

  if (!call) return html`<div class="card"><p class="muted">Loading…</p></div>`;
  const playable = call.recording && !call.recording.failed;
  return html` <div class="card history-call" data-history-call=${callSid}>
    <div class="card-head">
      <h2 class="mono">${callSid}</h2>
      <div class="actions">
        <button class="danger" data-action="history-delete" onClick=${erase}>Delete</button>
        <button class="ghost" data-action="history-back" onClick=${onClose}>Back to the list</button>
      </div>
    </div>
    <dl class="figures">
      <dt>From</dt><dd><${Field} value=${call.from} /></dd>
      <dt>To</dt><dd><${Field} value=${call.to} /></dd>
      <dt>Started</dt><dd>${formatDateTime(call.startedAt)}</dd>
      <dt>Duration</dt><dd>${formatDuration(call.durationS)}</dd>
      <dt>Outcome</dt><dd data-figure="outcome">${call.outcome} (${call.reason})</dd>
      <dt>Barge-ins</dt><dd>${call.interruptions}</dd>
      <dt>Tokens</dt><dd>${call.usage.totalTokens}</dd>
      <dt>Cost</dt><dd data-figure="cost">${formatCost(call.costUsd)}</dd>
    </dl>
    ${
      playable
        ? html`<audio
            ref=${audio}
            controls
            preload="metadata"
            data-history-audio
            src=${consoleUrl(`api/history/${callSid}/recording`)}
          ></audio>`
        : call.recording?.failed
          ? html`<p class="muted">Recording failed: ${call.recording.failed}</p>`
          : html`<p class="muted">No recording.</p>`
    }
    <h3>Transcript</h3>
    ${
      call.turnsOmitted > 0
        ? html`<p class="muted" data-testid="turns-omitted">
            The first ${call.turnsOmitted} ${call.turnsOmitted === 1 ? 'turn is' : 'turns are'} not
            kept: a call's record keeps its last 400.
          </p>`
        : ''
    }
    <ol class="transcript">
      ${call.transcript.map(
        (turn, i) =>
          html`<li
            key=${i}
            class=${`turn turn-${turn.role}${playable ? ' seekable' : ''}`}
            data-turn-index=${i}
            onClick=${() => seek(turn)}
          >
            ${
              playable
                ? html`<button class="row-open mono muted" data-action="seek-turn">
                    ${formatAt(turn.atMs)}
                  </button>`
                : html`<span class="mono muted">${formatAt(turn.atMs)}</span>`
            }
            <strong>${turn.role}</strong>
            ${turn.keypad ? html`<span class="tag">keypad</span>` : ''}
            <span class="turn-text">${turn.text}</span>
            ${turn.interrupted ? html`<span class="tag" title="the caller cut it here">interrupted</span>` : ''}
          </li>`,
      )}
    </ol>
    <h3>Tools</h3>
    ${
      call.tools.length === 0
        ? html`<p class="muted">No tool calls.</p>`
        : html`<table class="recent" data-history-tools>
            <thead><tr><th>Tool</th><th>Arguments</th><th>Output</th><th class="num">Time</th></tr></thead>
            <tbody>
              ${call.tools.map(
                (tool, i) =>
                  html`<tr key=${i}>
                    <td class="mono wrap"><bdi>${visible(tool.name)}</bdi></td>
                    <td class="mono wrap"><div class="cell-scroll"><bdi>${visible(JSON.stringify(tool.arguments))}</bdi></div></td>
                    <td class="mono wrap"><div class="cell-scroll"><bdi>${visible(tool.output)}</bdi></div></td>
                    <td class="num">${tool.ms} ms</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
  </div>`;
}
