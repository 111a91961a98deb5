// The setup checklist: each item green or red, with what was found and the fix.
import { api, html, useCallback, useEffect, useState } from './lib.js';

export function Checklist({ notify }) {
  const [report, setReport] = useState(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  const run = useCallback(async () => {
    setBusy(true);
    setError('');
    try {
      setReport(await api('api/checklist'));
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }, []);
  useEffect(() => void run(), [run]);

  const pointHere = async (number) => {
    if (
      !window.confirm(
        `Set the voice webhook of ${number.phoneNumber} to ${report.webhookUrl}?\nCalls to it will then reach this bridge.`,
      )
    )
      return;
    try {
      await api(`api/numbers/${encodeURIComponent(number.sid)}/point-here`, {
        method: 'POST',
      });
      notify(`${number.phoneNumber} now points here`, 'ok');
      await run();
    } catch (err) {
      notify(`Could not update ${number.phoneNumber}: ${err.message}`, 'error');
    }
  };

  const failing = report?.checks.filter((c) => c.state === 'fail').length ?? 0;
  return html` <div class="card checklist">
    <div class="card-head">
      <h2>Setup</h2>
      <button class="ghost small" data-action="recheck" onClick=${run} disabled=${busy}>
        ${busy ? 'Checking…' : 'Re-check'}
      </button>
    </div>
    ${!report && !error && html`<p class="muted">Checking OpenAI and Twilio…</p>`}
    ${error && html`<p class="error">${error}</p>`}
    ${
      report &&
      html`
        <p class=${`summary ${failing ? 'summary-fail' : 'summary-ok'}`}>
          ${failing ? `${failing} item${failing > 1 ? 's' : ''} to fix` : 'Ready to take calls'}
        </p>
        <ul class="checks">
          ${report.checks.map(
            (check) =>
              html` <li
                key=${check.name}
                class=${`check check-${check.state}`}
                data-check=${check.name}
                data-state=${check.state}
              >
                <span class="check-icon" aria-hidden="true"
                  >${check.state === 'ok' ? '✓' : '✕'}</span
                >
                <div>
                  <div class="check-title">${check.title}</div>
                  <div class="check-detail">${check.detail}</div>
                  ${check.fix && html`<div class="check-fix">Fix: ${check.fix}</div>`}
                </div>
              </li>`,
          )}
        </ul>
        ${
          report.numbers.length > 0 &&
          html` <h3>Numbers</h3>
            <ul class="numbers">
              ${report.numbers.map(
                (n) =>
                  html` <li key=${n.sid} class="number" data-number=${n.phoneNumber} data-webhook=${n.pointsHere ? 'here' : 'elsewhere'}>
                    <div>
                      <div
                        class="mono ellipsis"
                        title=${n.friendlyName !== n.phoneNumber ? n.friendlyName : n.phoneNumber}
                      >
                        <bdi>${n.phoneNumber}</bdi>
                        <span class="muted small aside-note"
                          ><bdi>${n.friendlyName !== n.phoneNumber ? n.friendlyName : ''}</bdi></span
                        >
                      </div>
                      <div class="small muted mono ellipsis" title=${n.voiceUrl ?? ''}>
                        ${n.voiceUrl ?? 'no voice webhook'}
                      </div>
                    </div>
                    ${
                      n.pointsHere
                        ? html`<span class="tag tag-ok">here</span>`
                        : html`<button
                            class="small"
                            data-action="point-here"
                            onClick=${() => pointHere(n)}
                            disabled=${!report.canSetWebhook}
                            title=${report.canSetWebhook ? `Set its voice webhook to ${report.webhookUrl}` : 'Set PUBLIC_URL first'}
                          >
                            Point here
                          </button>`
                    }
                  </li>`,
              )}
            </ul>`
        }
      `
    }
  </div>`;
}
