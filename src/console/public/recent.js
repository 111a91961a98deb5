// The last finished calls with their records; a row opens the call's transcript and record.
import { api, Field, formatDuration, formatTime, html, useEffect, useState } from './lib.js';

export function RecentCalls({ liveCount, selected, onSelect }) {
  const [calls, setCalls] = useState([]);
  // Refreshed when a call ends (the live count drops) and on first show.
  useEffect(() => {
    api('api/recent').then(
      (r) => setCalls(r.calls),
      () => undefined,
    );
  }, [liveCount]);
  return html` <div class="card">
    <div class="card-head">
      <h2>Recent calls</h2>
      <span class="muted small">last ${calls.length}</span>
    </div>
    ${
      calls.length === 0
        ? html`<p class="muted">Finished calls appear here with their records.</p>`
        : html` <div class="table-wrap">
            <table class="recent">
              <thead>
                <tr>
                  <th>Ended</th>
                  <th>Caller</th>
                  <th>Dialled</th>
                  <th>Profile</th>
                  <th class="num">Duration</th>
                  <th>Outcome</th>
                  <th class="num">Turns</th>
                  <th class="num">Barge-ins</th>
                  <th class="num">Tokens</th>
                </tr>
              </thead>
              <tbody>
                ${calls.map(
                  (c) =>
                    html` <tr
                      key=${c.call.callSid}
                      data-recent-call-sid=${c.call.callSid}
                      class=${c.call.callSid === selected ? 'selected' : ''}
                      onClick=${() => onSelect(c.call.callSid)}
                    >
                      <td>
                        <button class="row-open mono" data-action="open-recent">
                          ${formatTime(c.endedAt)}
                        </button>
                      </td>
                      <td class="phone"><${Field} value=${c.call.from} /></td>
                      <td class="phone"><${Field} value=${c.call.to} /></td>
                      <td>
                        <${Field}
                          value=${c.call.profile}
                          mono=${false}
                          fallback=${html`<span class="muted">default</span>`}
                        />
                      </td>
                      <td class="num mono">${formatDuration(c.durationS)}</td>
                      <td>
                        <span class=${`tag outcome-${c.outcome}`} title=${c.reason}
                          >${c.outcome}</span
                        >
                      </td>
                      <td class="num">${c.turns.caller + c.turns.assistant}</td>
                      <td class="num">${c.interruptions}</td>
                      <td class="num">${c.totalTokens}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
  </div>`;
}
