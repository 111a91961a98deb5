// Shared by the console's views: the view library (Preact + htm, vendored by the build), the
// data routes, and formatting.
import { h } from './vendor/preact.mjs';
import htm from './vendor/htm.mjs';

export { render } from './vendor/preact.mjs';
export { useCallback, useEffect, useMemo, useRef, useState } from './vendor/hooks.mjs';

/** JSX-like templates without a compiler: html`<p class=${c}>${text}</p>`. */
export const html = htm.bind(h);

/** An error a data route answered with (Nest's `{ message }`), or a network failure. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// The console's root, `{mount}/console/`: this module is served from its assets/, at the path
// the server wrote into index.html, the one place the bridge's mount (a host application's
// global prefix, a RouterModule path) enters the page. Every other path is relative to it.
const ROOT = new URL('../', import.meta.url);

/** A path under the console (`api/me`, `assets/listen-worklet.js`) from this origin's root. */
export function consoleUrl(path) {
  const url = new URL(path, ROOT);
  return `${url.pathname}${url.search}`;
}

/** The same for a WebSocket: ws:// or wss:// as the page itself is http:// or https://. */
export function consoleSocketUrl(path) {
  const url = new URL(path, ROOT);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

/** Calls a data route (`api/me`, `login`); mutations send JSON (the server refuses anything else). */
export async function api(path, { method = 'GET', body } = {}) {
  const response = await fetch(consoleUrl(path), {
    method,
    credentials: 'same-origin',
    headers: method === 'GET' ? {} : { 'content-type': 'application/json' },
    body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
  });
  if (response.status === 204) return undefined;
  const text = await response.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const message = Array.isArray(data?.message) ? data.message.join('; ') : data?.message;
    throw new ApiError(response.status, message ?? `HTTP ${response.status}`);
  }
  return data;
}

export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const pad = (n) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m % 60)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

export function formatMs(ms) {
  if (ms === undefined || ms === null) return '–';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

// One formatter for every time shown: toLocaleTimeString builds a new one per call (about 2 ms
// in Chromium), and a long call's 500 entries re-render with every `stats` event, 4 a second.
const TIME_FORMAT = new Intl.DateTimeFormat([], {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

export function formatTime(iso) {
  return TIME_FORMAT.format(new Date(iso));
}

// Bidi controls a caller can put in a From (or a model in a tool's arguments) to reorder what is
// shown: "+1555\u202Egnp.exe" reads "+1555exe.png". <bdi> keeps them from reordering what is
// around the value, not the value itself, so they are shown as visible marks instead.
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** `text` with its bidi controls shown as marks (⟨U+202E⟩) rather than obeyed. */
export function visible(text) {
  return String(text).replace(
    BIDI_CONTROLS,
    (c) => `⟨U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`,
  );
}

/**
 * A value a caller controls (a number, a name): isolated from its neighbours' direction, cut
 * with an ellipsis where it is too long (a 300-digit From), the whole of it in its title.
 */
export function Field({ value, fallback = '–', mono = true }) {
  if (value === undefined || value === null || value === '') return fallback;
  const shown = visible(value);
  return html`<bdi class=${mono ? 'field mono' : 'field'} title=${shown}>${shown}</bdi>`;
}

export const STATE_LABELS = {
  connecting: 'Connecting',
  talking: 'Talking',
  'assistant-speaking': 'Assistant speaking',
  'on-tool': 'On tool',
  ended: 'Ended',
  remote: 'Other instance',
};

export function StatePill({ state }) {
  return html`<span class=${`pill state-${state}`} data-call-state=${state}
    >${STATE_LABELS[state] ?? state}</span
  >`;
}
