// Listen in on a live call, take its line, hand it back (the listen socket,
// /console/api/calls/:callSid/listen). Both tracks play through the Web Audio API: an
// AudioWorklet (listen-worklet.js) decodes the mu-law in the page, an AnalyserNode per side
// drives its level meter. The microphone goes out as 8 kHz mu-law frames while this page holds
// the line.
import {
  api,
  ApiError,
  consoleSocketUrl,
  consoleUrl,
  html,
  useEffect,
  useRef,
  useState,
} from './lib.js';

const WORKLET_URL = consoleUrl('assets/listen-worklet.js');
const TRACKS = ['caller', 'assistant'];
const METER_INTERVAL_MS = 100;
const FLOOR_DB = -60;

/**
 * A refused upgrade (401, 403, 404, 429...) reaches the page as a bare close (1006) with no
 * status and no reason, so the page says what it can tell apart and names the rest.
 */
const REFUSED =
  "could not listen: the server refused (too many listeners, or the console is not opened at PUBLIC_URL's address)";

const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const toBase64 = (bytes) => btoa(String.fromCharCode(...bytes));

/** A side's level (dBFS) and strongest frequency (Hz), as its AnalyserNode reads them now. */
function readAnalyser(analyser, samples, spectrum) {
  analyser.getFloatTimeDomainData(samples);
  let sum = 0;
  for (const s of samples) sum += s * s;
  const rms = Math.sqrt(sum / samples.length);
  analyser.getFloatFrequencyData(spectrum);
  let peak = 0;
  for (let i = 1; i < spectrum.length; i++) if (spectrum[i] > spectrum[peak]) peak = i;
  const hz = (peak * analyser.context.sampleRate) / analyser.fftSize;
  return { db: rms > 0 ? Math.max(-100, 20 * Math.log10(rms)) : -100, hz: Math.round(hz) };
}

/** One page's listen socket and audio graph: started by a click (the browser's autoplay rule). */
class ListenSession {
  constructor(callSid, onChange) {
    this.callSid = callSid;
    this.onChange = onChange;
    this.state = { listening: false, line: 'assistant', error: undefined, levels: {} };
  }

  update(change) {
    this.state = { ...this.state, ...change };
    this.onChange(this.state);
  }

  /**
   * Checks the page's origin, builds the audio graph, opens the socket and waits for its
   * `start` frame; throws, with the reason, when listening cannot begin.
   */
  async start() {
    if (this.state.listening) return;
    this.update({ connecting: true, error: undefined });
    try {
      await this.checkOrigin();
      await this.openGraph();
      await this.openSocket();
    } catch (error) {
      this.stop();
      throw error;
    } finally {
      this.update({ connecting: false });
    }
    this.samples = new Float32Array(2048);
    this.spectrum = new Float32Array(1024);
    this.meterTimer = setInterval(() => this.readLevels(), METER_INTERVAL_MS);
    this.update({ listening: true, error: undefined });
  }

  /** The socket takes only the console's own origin (PUBLIC_URL's): 403 with no reason otherwise. */
  async checkOrigin() {
    const { origin } = await api('api/me');
    if (origin && origin !== location.origin) {
      throw new Error(
        `could not listen: this page is at ${location.origin}, and listening works only at the console's own address, ${origin} (PUBLIC_URL)`,
      );
    }
  }

  async openGraph() {
    this.context = new AudioContext();
    await this.context.audioWorklet.addModule(WORKLET_URL);
    this.players = {};
    this.analysers = {};
    for (const track of TRACKS) {
      const player = new AudioWorkletNode(this.context, 'listen-player');
      const analyser = new AnalyserNode(this.context, { fftSize: 2048 });
      player.connect(analyser).connect(this.context.destination);
      this.players[track] = player;
      this.analysers[track] = analyser;
    }
    await this.context.resume();
  }

  /** Resolves on the `start` frame; a close before it is a refusal, said as well as it can be. */
  async openSocket() {
    const path = `api/calls/${encodeURIComponent(this.callSid)}/listen`;
    const socket = new WebSocket(consoleSocketUrl(path));
    this.socket = socket;
    const closed = await new Promise((resolve) => {
      socket.onmessage = (event) => {
        const frame = JSON.parse(event.data);
        this.onFrame(frame);
        if (frame.event === 'start') resolve(undefined);
      };
      socket.onclose = (event) => resolve(event);
    });
    if (closed) throw new Error(await this.refusal(closed));
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      const why =
        event.reason || (event.code === 1000 ? 'the call ended' : 'the connection was lost');
      this.stop(`Listening stopped: ${why}.`);
    };
  }

  async refusal(event) {
    if (event.reason) return `could not listen: ${event.reason}`;
    // The call may have ended meanwhile: its detail says so (a record, or no longer known).
    try {
      const detail = await api(`api/calls/${encodeURIComponent(this.callSid)}`);
      if (detail.record) return 'could not listen: the call has ended';
    } catch (error) {
      if (error instanceof ApiError && error.status === 404)
        return 'could not listen: the call has ended';
    }
    return REFUSED;
  }

  onFrame(frame) {
    switch (frame.event) {
      case 'media':
        this.players[frame.track]?.port.postMessage(fromBase64(frame.payload));
        return;
      case 'start':
        // A page that joins during someone else's takeover must not offer Take over.
        this.update({ line: frame.line === 'operator' ? 'other' : 'assistant' });
        return;
      case 'takeover':
        if (!frame.ok) {
          // Refused: this page does not hold the line. Two pages that asked at once both took
          // the first acknowledgement (it names no one) for theirs; the refusal sets this one right.
          if (this.state.line === 'me') this.stopMic();
          const line = this.state.line === 'me' ? 'other' : this.state.line;
          return this.update({ line, error: frame.reason, asked: false });
        }
        // Every listener hears it: ours if this page asked for the line. An earlier refusal
        // ("another operator holds the line") no longer holds once the line changed hands.
        this.update({ line: this.state.asked ? 'me' : 'other', asked: false, error: undefined });
        return;
      case 'handback':
        if (!frame.ok) return this.update({ error: frame.reason });
        this.stopMic();
        this.update({ line: 'assistant', error: undefined });
        return;
      case 'stop':
        this.stop('Listening stopped: the call ended.');
        return;
      default:
        return;
    }
  }

  readLevels() {
    const levels = {};
    for (const track of TRACKS) {
      levels[track] = readAnalyser(this.analysers[track], this.samples, this.spectrum);
    }
    this.update({ levels });
  }

  /** Listens first if need be; goes no further on a closed socket or a line someone holds. */
  async takeOver() {
    if (!this.state.listening) await this.start();
    if (this.state.line === 'other') {
      throw new Error('could not take over: another operator holds the line');
    }
    const socket = this.socket;
    if (socket?.readyState !== WebSocket.OPEN) {
      throw new Error('could not take over: this page is not connected to the call');
    }
    const mic = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, channelCount: 1 },
    });
    // The socket may have closed (and the audio graph with it) while the browser asked.
    if (this.socket !== socket || socket.readyState !== WebSocket.OPEN) {
      for (const track of mic.getTracks()) track.stop();
      throw new Error(
        `could not take over: the listen socket closed${this.state.error ? ` (${this.state.error})` : ''}`,
      );
    }
    this.mic = mic;
    const source = this.context.createMediaStreamSource(this.mic);
    this.capture = new AudioWorkletNode(this.context, 'mic-capture');
    this.capture.port.onmessage = (event) => {
      if (this.state.line !== 'me' || this.socket?.readyState !== WebSocket.OPEN) return;
      this.socket.send(JSON.stringify({ event: 'media', payload: toBase64(event.data) }));
    };
    // A worklet runs only while connected to the graph: a muted gain keeps it pulled.
    const mute = new GainNode(this.context, { gain: 0 });
    source.connect(this.capture).connect(mute).connect(this.context.destination);
    this.micSource = source;
    this.update({ asked: true, error: undefined });
    socket.send(JSON.stringify({ event: 'takeover' }));
  }

  handBack(note) {
    if (this.socket?.readyState !== WebSocket.OPEN) {
      throw new Error('could not hand back: this page is not connected to the call');
    }
    const message = note ? { event: 'handback', note } : { event: 'handback' };
    this.socket.send(JSON.stringify(message));
  }

  stopMic() {
    this.micSource?.disconnect();
    this.capture?.disconnect();
    for (const track of this.mic?.getTracks() ?? []) track.stop();
    this.mic = this.capture = this.micSource = undefined;
  }

  /** Ends listening; `error` says why when the operator did not ask for it. */
  stop(error) {
    if (!this.state.listening && !this.socket && !this.context) return;
    clearInterval(this.meterTimer);
    this.stopMic();
    const socket = this.socket;
    this.socket = undefined;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000);
    const context = this.context;
    this.context = undefined;
    void context?.close();
    this.update({ listening: false, line: 'assistant', levels: {}, asked: false, error });
  }
}

function LevelMeter({ track, level }) {
  const db = level?.db ?? -100;
  const fill = Math.max(0, Math.min(1, (db - FLOOR_DB) / -FLOOR_DB));
  return html`<div
    class=${`meter meter-${track}`}
    data-testid=${`listen-level-${track}`}
    data-db=${db.toFixed(1)}
    data-peak-hz=${level?.hz ?? 0}
  >
    <span class="meter-label">${track === 'caller' ? 'Caller' : 'Our side'}</span>
    <span class="meter-track"
      ><span class="meter-fill" style=${{ width: `${(fill * 100).toFixed(1)}%` }}></span
    ></span>
    <span class="meter-value mono">${db <= -90 ? '–∞' : db.toFixed(0)} dB</span>
  </div>`;
}

/** The Listen / Take over / Hand back controls of a live media call. */
export function ListenPanel({ callSid }) {
  const [state, setState] = useState({ listening: false, line: 'assistant', levels: {} });
  const [note, setNote] = useState('');
  const session = useRef(null);
  useEffect(() => {
    session.current = new ListenSession(callSid, setState);
    return () => session.current?.stop();
  }, [callSid]);
  const run = (action) => () =>
    Promise.resolve()
      .then(action)
      .catch((error) => session.current.update({ error: error.message }));
  const holding = state.line === 'me';
  return html`<div class="listen" data-testid="listen-panel" data-line=${state.line}>
    <div class="listen-actions">
      ${
        state.listening
          ? html`<button class="small" data-action="stop-listening" onClick=${() => session.current.stop()}>
            Stop listening
          </button>`
          : html`<button class="small primary" data-action="listen" disabled=${state.connecting} onClick=${run(() => session.current.start())}>
            ${state.connecting ? 'Connecting…' : 'Listen'}
          </button>`
      }
      <button
        class="small danger"
        data-action="takeover"
        disabled=${holding || state.connecting || state.line === 'other'}
        onClick=${run(() => session.current.takeOver())}
      >
        Take over
      </button>
      <input
        class="listen-note"
        data-testid="handback-note"
        placeholder="Note for the assistant (optional)"
        maxlength="1000"
        value=${note}
        onInput=${(e) => setNote(e.currentTarget.value)}
        disabled=${!holding}
      />
      <button
        class="small"
        data-action="handback"
        disabled=${!holding}
        onClick=${run(() => {
          session.current.handBack(note.trim());
          setNote('');
        })}
      >
        Hand back
      </button>
    </div>
    <p class="muted small" data-testid="listen-status" aria-live="polite">
      ${
        holding
          ? 'You have the line: the caller hears you, not the assistant.'
          : state.line === 'other'
            ? 'Another operator has the line.'
            : state.listening
              ? 'Listening. The assistant has the line.'
              : 'Hear both sides of this call live, and take the line if the assistant struggles.'
      }
      ${state.error && html` <span class="listen-error">${state.error}</span>`}
    </p>
    ${
      state.listening &&
      html`<div class="meters">
      ${TRACKS.map((track) => html`<${LevelMeter} key=${track} track=${track} level=${state.levels[track]} />`)}
    </div>`
    }
  </div>`;
}
