// One call as it happens: meters, latency, barge-ins, tokens, and the transcript with tools.
import { useCallDetail } from './call-detail.js';
import {
  Field,
  formatDuration,
  formatMs,
  formatTime,
  html,
  StatePill,
  useEffect,
  useRef,
  visible,
} from './lib.js';
import { ListenPanel } from './listen.js';

const FLOOR_DB = -60;

function Meter({ label, db, side }) {
  const level = Math.max(0, Math.min(1, (db - FLOOR_DB) / -FLOOR_DB));
  return html` <div class=${`meter meter-${side}`} data-testid=${`meter-${side}`} data-db=${db}>
    <span class="meter-label">${label}</span>
    <span class="meter-track"
      ><span class="meter-fill" style=${{ width: `${(level * 100).toFixed(1)}%` }}></span
    ></span>
    <span class="meter-value mono">${db <= -90 ? '–∞' : db.toFixed(0)} dB</span>
  </div>`;
}

function LatencyBars({ values }) {
  if (!values?.length) return html`<p class="muted small">No answered turn yet.</p>`;
  const max = Math.max(1000, ...values);
  return html` <div
    class="bars"
    title="Response latency per turn (end of caller speech to first audio)"
  >
    ${values.slice(-24).map(
      (ms, i) =>
        html`<span
            key=${i}
            class=${`bar ${ms > 1500 ? 'bar-slow' : ms > 800 ? 'bar-mid' : ''}`}
            style=${{ height: `${Math.max(6, (ms / max) * 100)}%` }}
            title=${formatMs(ms)}
          ></span>`,
    )}
  </div>`;
}

function Stat({ label, value, testid }) {
  return html`<div class="stat">
    <span class="stat-label">${label}</span
    ><span class="stat-value" data-testid=${testid}>${value}</span>
  </div>`;
}

function Entry({ entry }) {
  const time = html`<time class="entry-time">${formatTime(entry.at)}</time>`;
  switch (entry.kind) {
    case 'turn':
      return html` <li
        class=${`turn turn-${entry.role}${entry.interrupted ? ' interrupted' : ''}`}
        data-kind="turn"
        data-role=${entry.role}
      >
        <div class="turn-meta">
          ${entry.role === 'caller' ? 'Caller' : 'Assistant'} ${time}
          ${entry.interrupted && html`<span class="tag tag-cut" title="The caller talked over this turn">interrupted</span>`}
        </div>
        <div class="bubble" dir="auto">${entry.text}</div>
      </li>`;
    case 'tool':
      return html` <li
        class=${`tool ${entry.ok ? '' : 'tool-failed'}`}
        data-kind="tool"
        data-tool=${entry.name}
      >
        <div class="tool-head">
          <span class="tool-icon" aria-hidden="true">ƒ</span>
          <strong class="mono field" data-testid="tool-name" title=${visible(entry.name)}
            ><bdi>${visible(entry.name)}</bdi></strong
          >
          <span class=${`tag ${entry.ok ? 'tag-ok' : 'tag-fail'}`}
            >${entry.ok ? 'ok' : 'error'}</span
          >
          <span class="muted small">${formatMs(entry.durationMs)}</span> ${time}
        </div>
        <div class="tool-io">
          <div>
            <span class="io-label">arguments</span>
            <pre class="mono" data-testid="tool-arguments"><bdi>${visible(entry.arguments)}</bdi></pre>
          </div>
          <div>
            <span class="io-label">output</span>
            <pre class="mono" data-testid="tool-output"><bdi>${visible(entry.output)}</bdi></pre>
          </div>
        </div>
      </li>`;
    case 'dtmf':
      return html`<li class="marker" data-kind="dtmf">
        ${time} <span class="key mono">${entry.digit}</span> caller pressed a key
      </li>`;
    case 'interruption': {
      const who = entry.by === 'operator' ? 'an operator took the line' : 'caller barged in';
      return html`<li class="marker marker-cut" data-kind="interruption">
        ${time} ${`✂ ${who} after ${formatMs(entry.audioEndMs)} of the answer`}
      </li>`;
    }
    case 'operator': {
      const did = entry.action === 'takeover' ? 'took the line' : 'handed the line back';
      return html`<li class="marker marker-operator" data-kind=${entry.action}>
        ${time} ${`☎ ${entry.operator} ${did}`}${entry.note && html`: <em><bdi>${visible(entry.note)}</bdi></em>`}
      </li>`;
    }
    default:
      return null;
  }
}

function Record({ record }) {
  const rows = [
    ['Outcome', `${record.outcome} — ${record.reason}`],
    ['Duration', formatDuration(record.durationS)],
    ['Turns', `${record.turns.caller} caller / ${record.turns.assistant} assistant`],
    ['First audio', formatMs(record.latency.firstAudioMs)],
    [
      'Response latency',
      `${formatMs(record.latency.responseAvgMs)} avg, ${formatMs(record.latency.responseMaxMs)} max`,
    ],
    [
      'Barge-ins',
      `${record.interruptions} (reaction ${formatMs(record.latency.bargeInReactionAvgMs)})`,
    ],
    ['Reconnects', record.reconnects],
    [
      'Tokens',
      `${record.usage.totalTokens} (${record.usage.inputTokens} in, ${record.usage.outputTokens} out)`,
    ],
    [
      'Frames',
      `${record.frames.in} in, ${record.frames.out} out, ${record.frames.dropped} dropped`,
    ],
  ];
  return html` <div class="record" data-testid="call-record">
    <h3>Call record</h3>
    <dl>
      ${rows.map(
        ([k, v]) =>
          html`<dt>${k}</dt>
            <dd>${v}</dd>`,
      )}
    </dl>
  </div>`;
}

export function CallView({ callSid, onClose }) {
  const { detail, missing, stream } = useCallDetail(callSid);
  const list = useRef(null);
  const entries = detail?.entries ?? [];

  // Keep the newest line in view while the operator is at the bottom.
  useEffect(() => {
    const el = list.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 120)
      el.scrollTop = el.scrollHeight;
  }, [entries.length]);

  if (!detail) {
    return html`<div class="card empty">
      ${
        missing
          ? html`<p>Call ${callSid} is no longer known.</p>
              <button onClick=${onClose}>Close</button>`
          : html`<p class="muted">Opening ${callSid}…</p>`
      }
    </div>`;
  }
  const { call, stats, record } = detail;
  const latencies = stats?.responseLatencyMs ?? [];
  const avg = latencies.length
    ? latencies.reduce((a, b) => a + b, 0) / latencies.length
    : undefined;
  return html` <div
    class="card call-view"
    data-testid="call-view"
    data-view-call-sid=${call.callSid}
  >
    <div class="card-head">
      <div>
        <h2>
          <${Field} value=${call.from} fallback="Unknown caller" />
          <span class="muted arrow">→</span> <${Field} value=${call.to} />
        </h2>
        <div class="muted small mono call-ids">
          ${call.callSid}${call.profile ? html` · profile <${Field} value=${call.profile} />` : ''}${call.instance ? html` · <${Field} value=${call.instance} />` : ''}
        </div>
      </div>
      <div class="head-right">
        <${StatePill} state=${call.state} />
        <button
          class="ghost small"
          onClick=${onClose}
          title="Close this call's view"
          aria-label="Close call view"
        >
          ✕
        </button>
      </div>
    </div>
    ${
      stream === 'reconnecting' &&
      !record &&
      html`<p class="error stale-view" role="status" data-testid="call-view-stale">
        Reconnecting… this view may be out of date.
      </p>`
    }

    ${
      stats &&
      !record &&
      html` <div class="live-grid">
        <div class="meters">
          <${Meter} label="Caller" db=${stats.levels.caller} side="caller" />
          <${Meter} label="Assistant" db=${stats.levels.assistant} side="assistant" />
        </div>
        <div class="stats">
          <${Stat} label="Duration" value=${formatDuration(stats.durationS)} />
          <${Stat} label="First audio" value=${formatMs(stats.firstAudioMs)} testid="first-audio" />
          <${Stat} label="Response (avg)" value=${formatMs(avg)} />
          <${Stat} label="Barge-ins" value=${stats.bargeIns} testid="barge-ins" />
          <${Stat} label="Tokens" value=${stats.usage.totalTokens} testid="tokens" />
          <${Stat} label="Frames in/out" value=${`${stats.frames.in}/${stats.frames.out}`} />
        </div>
        <div class="latency">
          <span class="stat-label">Response latency per turn</span>
          <${LatencyBars} values=${latencies} />
        </div>
      </div>`
    }
    ${!record && call.transport !== 'sip' && html`<${ListenPanel} callSid=${callSid} />`}
    ${record && html`<${Record} record=${record} />`}

    <h3 class="transcript-title">
      Transcript
      ${detail.droppedEntries > 0 && html`<span class="muted small aside-note">(${detail.droppedEntries} earlier entries not kept)</span>`}
    </h3>
    <ol class="transcript" data-testid="transcript" ref=${list}>
      ${entries.length === 0 && html`<li class="marker muted">Nothing said yet.</li>`}
      ${entries.map((entry, i) => html`<${Entry} key=${i} entry=${entry} />`)}
    </ol>
  </div>`;
}
