// The default session and the named profiles, read-only, with the tools the model is offered.
import { api, html, useEffect, useState } from './lib.js';

function Settings({ settings }) {
  return html` <dl class="settings">
    <dt>Voice</dt>
    <dd>${settings.voice}</dd>
    <dt>Greeting</dt>
    <dd>${settings.greeting ?? html`<span class="muted">none (waits for the caller)</span>`}</dd>
    <dt>Instructions</dt>
    <dd><p class="instructions">${settings.instructions}</p></dd>
  </dl>`;
}

export function Profiles() {
  const [data, setData] = useState(undefined);
  const [error, setError] = useState('');
  useEffect(() => {
    api('api/profiles').then(setData, (err) => setError(err.message));
  }, []);
  if (error)
    return html`<div class="card">
      <h2>Profiles</h2>
      <p class="error">${error}</p>
    </div>`;
  if (!data)
    return html`<div class="card">
      <h2>Profiles</h2>
      <p class="muted">Loading…</p>
    </div>`;
  const d = data.default;
  return html` <div class="card profiles">
    <div class="card-head">
      <h2>Session</h2>
      <span class="muted small">read-only</span>
    </div>
    <p class="small muted">
      ${[
        d.model,
        d.turnDetection,
        `input ${d.inputFormat}`,
        d.inputTranscriptionModel && `transcription ${d.inputTranscriptionModel}`,
      ]
        .filter(Boolean)
        .join(' · ')}
    </p>
    <details>
      <summary>Default</summary>
      <${Settings} settings=${d} />
    </details>
    ${data.profiles.map(
      (p) =>
        html` <details key=${p.name}>
          <summary>
            ${p.name}
            ${p.numbers.length > 0 && html`<span class="muted small mono aside-note">${p.numbers.join(', ')}</span>`}
          </summary>
          <${Settings} settings=${p} />
        </details>`,
    )}
    <h3>Tools <span class="muted small">(${data.tools.length})</span></h3>
    <ul class="tools">
      ${data.tools.map(
        (t) =>
          html` <li key=${t.name}>
            <details>
              <summary>
                <span class="mono">${t.name}</span>
                <span class="muted small aside-note">${t.description}</span>
              </summary>
              <pre class="mono schema">${JSON.stringify(t.parameters, null, 2)}</pre>
            </details>
          </li>`,
      )}
    </ul>
  </div>`;
}
