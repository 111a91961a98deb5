// The operator console: log in once, then set up, watch and steer live calls.
import { CallsTable, useLiveCalls } from './calls.js';
import { CallView } from './call-view.js';
import { Checklist } from './checklist.js';
import { api, ApiError, html, render, useCallback, useEffect, useState } from './lib.js';
import { HistoryView } from './history.js';
import { Profiles } from './profiles.js';
import { RecentCalls } from './recent.js';

function Login({ onLoggedIn }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      await api('login', { method: 'POST', body: { token } });
      onLoggedIn();
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401 ? 'That token is not right.' : err.message,
      );
    } finally {
      setBusy(false);
    }
  };

  return html` <main class="login">
    <form class="card login-card" onSubmit=${submit}>
      <div class="brand"><span class="logo" aria-hidden="true"></span> Bridge console</div>
      <p class="muted">
        Enter the bridge's API token. It is exchanged for a session cookie; the page never stores
        it.
      </p>
      <label for="token">API token</label>
      <input
        id="token"
        data-testid="token"
        type="password"
        autocomplete="current-password"
        value=${token}
        onInput=${(e) => setToken(e.currentTarget.value)}
        autofocus
        required
      />
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button class="primary" type="submit" data-action="login" disabled=${busy || !token}>
        ${busy ? 'Logging in…' : 'Log in'}
      </button>
    </form>
  </main>`;
}

/** Messages about actions (hang-up, transfer, webhook), shown for a few seconds. */
function useToasts() {
  const [toasts, setToasts] = useState([]);
  const notify = useCallback((text, kind = 'info') => {
    const id = Math.random();
    setToasts((list) => [...list.slice(-3), { id, text, kind }]);
    setTimeout(() => setToasts((list) => list.filter((t) => t.id !== id)), 5000);
  }, []);
  return [toasts, notify];
}

function Console({ onLoggedOut }) {
  const [me, setMe] = useState(undefined);
  // A call the operator picked stays open; otherwise the view follows the newest live call.
  const [selection, setSelection] = useState({ callSid: undefined, pinned: false });
  const selected = selection.callSid;
  const pick = useCallback(
    (callSid) => setSelection({ callSid, pinned: callSid !== undefined }),
    [],
  );
  const [toasts, notify] = useToasts();
  const [view, setView] = useState('live');
  const { calls, partial, connected } = useLiveCalls(onLoggedOut);

  useEffect(() => {
    api('api/me').then(setMe, (err) =>
      err.status === 401 ? onLoggedOut() : notify(err.message, 'error'),
    );
  }, []);

  useEffect(() => {
    if (selection.pinned || calls.length === 0) return;
    if (!calls.some((c) => c.callSid === selection.callSid)) {
      setSelection({ callSid: calls[calls.length - 1].callSid, pinned: false });
    }
  }, [calls, selection]);

  const logout = async () => {
    await api('logout', { method: 'POST' }).catch(() => undefined);
    onLoggedOut();
  };

  return html` <header class="topbar">
      <div class="brand"><span class="logo" aria-hidden="true"></span> Bridge console</div>
      <div class="topbar-status">
        <span class=${`dot ${connected ? 'dot-live' : 'dot-down'}`}></span>
        ${connected ? 'Live' : 'Reconnecting…'}
        <span class="sep">·</span>
        <strong>${calls.length}</strong> call${calls.length === 1 ? '' : 's'} in progress
        ${me && html`<span class="muted">(limit ${me.maxConcurrentCalls})</span>`}
      </div>
      <nav class="views">
        <button
          class=${view === 'live' ? 'ghost active' : 'ghost'}
          data-action="show-live"
          onClick=${() => setView('live')}
        >
          Live
        </button>
        ${
          me?.history &&
          html`<button
            class=${view === 'history' ? 'ghost active' : 'ghost'}
            data-action="show-history"
            onClick=${() => setView('history')}
          >
            History
          </button>`
        }
      </nav>
      <button class="ghost" data-action="logout" onClick=${logout}>Log out</button>
    </header>
    <main class="layout">
      ${view === 'history' && html`<div class="main-col"><${HistoryView} notify=${notify} /></div>`}
      <div class=${view === 'history' ? 'main-col hidden' : 'main-col'}>
        <${CallsTable}
          calls=${calls}
          partial=${partial}
          me=${me}
          selected=${selected}
          onSelect=${pick}
          notify=${notify}
        />
        ${
          selected
            ? html`<${CallView}
                key=${selected}
                callSid=${selected}
                onClose=${() => pick(undefined)}
              />`
            : html`<div class="card empty">
                <h2>No call selected</h2>
                <p class="muted">
                  Calls appear in the table as they start; pick one to follow its transcript, levels
                  and latency.
                </p>
              </div>`
        }
        <${RecentCalls} liveCount=${calls.length} selected=${selected} onSelect=${pick} />
      </div>
      <aside class="side-col">
        <${Checklist} notify=${notify} />
        <${Profiles} />
      </aside>
    </main>
    <div class="toasts" aria-live="polite">
      ${toasts.map((t) => html`<div key=${t.id} class=${`toast toast-${t.kind}`}>${t.text}</div>`)}
    </div>`;
}

function App() {
  const [auth, setAuth] = useState('unknown');
  useEffect(() => {
    api('session').then(
      (s) => setAuth(s.authenticated ? 'in' : 'out'),
      () => setAuth('out'),
    );
  }, []);
  if (auth === 'unknown') return html`<p class="booting">Loading the console…</p>`;
  if (auth === 'out') return html`<${Login} onLoggedIn=${() => setAuth('in')} />`;
  return html`<${Console} onLoggedOut=${() => setAuth('out')} />`;
}

render(html`<${App} />`, document.getElementById('app'));
