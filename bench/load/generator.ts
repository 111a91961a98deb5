/**
 * The load generator of the load bench: N Twilio callers in one process of their own (forked by
 * bench/load.bench.ts), so their pacing never waits behind the fake Realtime server's work.
 *
 * Each call does what Twilio does: the signed voice webhook, the signed media WebSocket,
 * `connected` + `start` with the TwiML's parameters, one 160-byte mu-law `media` frame every
 * 20 ms, an immediate echo of every `mark`, and finally `stop`. Calls are dialled evenly over
 * the ramp, and their 20 ms slots are spread evenly over the 20 ms period (call i at phase
 * i x 20 ms / N), as independent phone calls would be, rather than bursting all at once.
 *
 * Pacing: frame k of a call is due at an absolute time on its grid (no drift), and one timer
 * serves every call: it sends whatever is due and sleeps until the next slot. The gap between a
 * frame's slot and its actual send time is its lateness; the orchestrator reports its p99,
 * since a late generator makes every latency figure a measure of the generator.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import WebSocket, { type RawData } from 'ws';
import { callerPayloads, levelOfFrame, type CallerPayloads } from './audio.js';
import {
  FRAME_MS,
  FRAME_NS,
  isMessage,
  loopDelayMs,
  LOOP_MONITOR_RESOLUTION_MS,
  nowNs,
  parseJsonRecord,
  rawText,
  readTag,
  sendToParent,
  setClockBase,
  tagBase64,
  type CallerRecord,
  type GeneratorConfig,
  type GeneratorResult,
  type Progress,
  type Tag,
  type ToGenerator,
} from './protocol.js';

const LEAD_IN_NS = 100_000_000; // time to set up before the first dial
const HTTP_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 3000;

type CallerState = 'waiting' | 'dialing' | 'streaming' | 'draining' | 'ended';

interface StreamInstructions {
  url: string;
  parameters: Record<string, string>;
}

class Caller {
  state: CallerState = 'waiting';
  socket?: WebSocket;
  parameters: Record<string, string> = {};
  nextDueNs = Infinity;
  /** Up (its first echo came back) or failed before that: either way, no longer awaited. */
  settled = false;
  up = false;
  closed = false;
  private sequence = 0;
  private maxEchoIndex = -1;

  constructor(
    readonly record: CallerRecord,
    readonly streamSid: string,
    readonly dialAtNs: number,
    readonly phaseNs: number,
  ) {}

  get callSid(): string {
    return this.record.callSid;
  }

  send(text: string): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(text);
    return true;
  }

  sendStart(accountSid: string): void {
    this.send('{"event":"connected","protocol":"Call","version":"1.0.0"}');
    this.send(
      JSON.stringify({
        event: 'start',
        sequenceNumber: String(++this.sequence),
        streamSid: this.streamSid,
        start: {
          accountSid,
          callSid: this.callSid,
          streamSid: this.streamSid,
          tracks: ['inbound'],
          customParameters: this.parameters,
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        },
      }),
    );
  }

  /** Sends frame k (due at `dueNs`) and records when it left. */
  sendMedia(payload: string, dueNs: number): void {
    const k = this.record.framesSent;
    const text =
      `{"event":"media","sequenceNumber":"${++this.sequence}","streamSid":"${this.streamSid}",` +
      `"media":{"track":"inbound","chunk":"${k + 1}","timestamp":"${k * FRAME_MS}",` +
      `"payload":"${payload}"}}`;
    const sentNs = nowNs();
    if (!this.send(text)) return;
    this.record.sendNs[k] = sentNs;
    this.record.lateMs[k] = (sentNs - dueNs) / 1e6;
    this.record.framesSent++;
  }

  /** Twilio echoes a mark once the audio before it has played; a bench plays instantly. */
  echoMark(name: string): void {
    const sent = this.send(
      `{"event":"mark","sequenceNumber":"${++this.sequence}","streamSid":"${this.streamSid}",` +
        `"mark":{"name":${JSON.stringify(name)}}}`,
    );
    if (sent) this.record.marksEchoed++;
  }

  sendStop(accountSid: string): void {
    this.send(
      `{"event":"stop","sequenceNumber":"${++this.sequence}","streamSid":"${this.streamSid}",` +
        `"stop":{"accountSid":"${accountSid}","callSid":"${this.callSid}"}}`,
    );
  }

  /** Records one echo; returns true if it was this call's first (the call is now up). */
  recordEcho(connId: number, index: number, recvNs: number): boolean {
    const record = this.record;
    const first = record.connId === -1;
    if (first) record.connId = connId;
    else if (connId !== record.connId) {
      record.crossTalk++;
      return false;
    }
    if (index >= record.echoRecvNs.length) return first;
    if (!Number.isNaN(record.echoRecvNs[index])) {
      record.echoDuplicates++;
      return first;
    }
    record.echoRecvNs[index] = recvNs;
    record.echoes++;
    if (index < this.maxEchoIndex) record.echoReordered++;
    else this.maxEchoIndex = index;
    return first;
  }

  fail(reason: string): void {
    this.record.failure ??= reason;
  }
}

function sid(prefix: string, runId: string, index: number): string {
  return `${prefix}${runId}${index.toString(16).padStart(24, '0')}`;
}

function decodeXmlAttribute(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Reads `<Connect><Stream url><Parameter/>...` out of TwiML, as Twilio would. */
function parseStreamTwiml(xml: string): StreamInstructions {
  const url = /<Stream[^>]*\surl="([^"]+)"/.exec(xml)?.[1];
  if (!url) throw new Error(`webhook answered without <Stream>: ${xml.slice(0, 120)}`);
  const parameters: Record<string, string> = {};
  for (const match of xml.matchAll(/<Parameter name="([^"]+)" value="([^"]*)"\s*\/>/g)) {
    parameters[decodeXmlAttribute(match[1])] = decodeXmlAttribute(match[2]);
  }
  return { url: decodeXmlAttribute(url), parameters };
}

class LoadGenerator {
  private readonly callers: Caller[];
  private readonly active: Caller[] = [];
  private readonly payloads: CallerPayloads = callerPayloads();
  private readonly tagScratch = Buffer.alloc(16);
  private readonly tag: Tag = { a: 0, b: 0 };
  private readonly runStartNs: number;
  private readonly sendEndNs: number;
  private readonly upDeadlineNs: number;
  private nextDial = 0;
  private timer?: NodeJS.Timeout;
  private armedForNs = Infinity;
  private settledCount = 0;
  private upCount = 0;
  private failedCount = 0;
  private framesSent = 0;
  private echoesReceived = 0;
  private steadyStartNs = NaN;
  private steadyEndNs = NaN;
  private finishing = false;
  private resolveDone?: (result: GeneratorResult) => void;

  constructor(private readonly config: GeneratorConfig) {
    const runId = randomBytes(4).toString('hex');
    this.runStartNs = nowNs() + LEAD_IN_NS;
    this.sendEndNs = this.runStartNs + config.seconds * 1e9;
    this.upDeadlineNs = this.runStartNs + (config.rampMs + config.upTimeoutMs) * 1e6;
    const dialStepNs = (config.rampMs * 1e6) / config.calls;
    this.callers = Array.from({ length: config.calls }, (_, index) => {
      const record: CallerRecord = {
        index,
        callSid: sid('CA', runId, index),
        connId: -1,
        framesSent: 0,
        sendNs: new Float64Array(config.maxFrames),
        lateMs: new Float32Array(config.maxFrames),
        echoRecvNs: new Float64Array(config.maxFrames).fill(NaN),
        echoes: 0,
        echoReordered: 0,
        echoDuplicates: 0,
        crossTalk: 0,
        untaggedMedia: 0,
        marksEchoed: 0,
        clears: 0,
        upAtNs: NaN,
        completed: false,
      };
      const dialAtNs = this.runStartNs + index * dialStepNs;
      const phaseNs = Math.floor((index * FRAME_NS) / config.calls);
      return new Caller(record, sid('MZ', runId, index), dialAtNs, phaseNs);
    });
  }

  run(): Promise<GeneratorResult> {
    const done = new Promise<GeneratorResult>((resolve) => (this.resolveDone = resolve));
    this.arm(this.runStartNs);
    return done;
  }

  progress(): Progress {
    return {
      elapsedMs: Math.max(0, (nowNs() - this.runStartNs) / 1e6),
      callsUp: this.upCount,
      callsFailed: this.failedCount,
      framesSent: this.framesSent,
      echoesReceived: this.echoesReceived,
    };
  }

  /** One timer for every call: wakes for the earliest slot (or dial) still to come. */
  private arm(dueNs: number): void {
    if (this.finishing || dueNs >= this.armedForNs) return;
    clearTimeout(this.timer);
    this.armedForNs = dueNs;
    // Timers have 1 ms granularity: waking early costs one empty pass, waking late costs lateness.
    const delayMs = Math.max(0, Math.floor((dueNs - nowNs()) / 1e6));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.armedForNs = Infinity;
      this.tick();
    }, delayMs);
  }

  private tick(): void {
    const now = nowNs();
    while (this.nextDial < this.callers.length && this.callers[this.nextDial].dialAtNs <= now) {
      this.dial(this.callers[this.nextDial++]);
    }
    let next =
      this.nextDial < this.callers.length ? this.callers[this.nextDial].dialAtNs : Infinity;
    for (const caller of this.active) next = Math.min(next, this.sendDueFrames(caller, now));
    this.checkSteadyStart(now);
    if (now >= this.sendEndNs) {
      this.finish().catch((error: unknown) => fatal(error));
      return;
    }
    this.arm(Math.min(next, this.sendEndNs));
  }

  /** Sends every frame of this call that is due (catching up if the loop was late). */
  private sendDueFrames(caller: Caller, now: number): number {
    const { full, tail } = this.payloads;
    const g711 = this.config.format === 'g711_ulaw';
    while (caller.nextDueNs <= now && caller.nextDueNs < this.sendEndNs) {
      const k = caller.record.framesSent;
      if (k >= this.config.maxFrames || caller.state !== 'streaming') return Infinity;
      const level = levelOfFrame(k);
      // g711_ulaw reaches the fake byte for byte, so the frame carries (call, frame) itself.
      const payload = g711
        ? tagBase64(this.tagScratch, caller.record.index, k) + tail[level]
        : full[level];
      caller.sendMedia(payload, caller.nextDueNs);
      if (caller.record.framesSent === k) return Infinity; // socket gone: 'close' reports it
      this.framesSent++;
      caller.nextDueNs += FRAME_NS;
    }
    return caller.nextDueNs < this.sendEndNs ? caller.nextDueNs : Infinity;
  }

  private dial(caller: Caller): void {
    caller.state = 'dialing';
    this.openCall(caller).catch((error: unknown) => {
      this.failBeforeUp(caller, error instanceof Error ? error.message : String(error));
      caller.socket?.terminate();
    });
  }

  private async openCall(caller: Caller): Promise<void> {
    const stream = await this.webhook(caller);
    caller.parameters = stream.parameters;
    const socket = new WebSocket(stream.url, {
      headers: {
        'x-twilio-signature': twilio.getExpectedTwilioSignature(
          this.config.authToken,
          stream.url,
          {},
        ),
      },
      perMessageDeflate: false,
      handshakeTimeout: HTTP_TIMEOUT_MS,
    });
    caller.socket = socket;
    socket.on('message', (data: RawData) => this.onMessage(caller, data));
    socket.on('close', (code: number, reason: Buffer) => this.onClose(caller, code, reason));
    socket.on('error', (error: Error) => caller.fail(`media socket error: ${error.message}`));
    socket.on('unexpected-response', (req, res) => {
      caller.fail(`media upgrade refused: HTTP ${res.statusCode}`);
      res.resume();
      req.destroy();
    });
    socket.on('open', () => this.onOpen(caller));
  }

  /** The voice webhook, form-encoded and signed as Twilio signs it. */
  private async webhook(caller: Caller): Promise<StreamInstructions> {
    const url = `${this.config.serviceBaseUrl}/api/twiml`;
    const params: Record<string, string> = {
      AccountSid: this.config.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: caller.callSid,
      CallStatus: 'ringing',
      Direction: 'inbound',
      From: `+1555${String(caller.record.index % 10_000_000).padStart(7, '0')}`,
      To: '+15550009999',
    };
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(this.config.authToken, url, params),
      },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`webhook answered HTTP ${response.status}`);
    return parseStreamTwiml(body);
  }

  private onOpen(caller: Caller): void {
    if (caller.state !== 'dialing') {
      caller.socket?.close(1000); // the run ended while this call was still dialling
      return;
    }
    caller.sendStart(this.config.accountSid);
    caller.state = 'streaming';
    // First slot on this call's phase of the grid that has not passed yet.
    const now = nowNs();
    const base = this.runStartNs + caller.phaseNs;
    caller.nextDueNs = base + Math.ceil((now - base) / FRAME_NS) * FRAME_NS;
    this.active.push(caller);
    this.arm(caller.nextDueNs);
  }

  private onMessage(caller: Caller, data: RawData): void {
    // Time-stamped first: parsing is the generator's cost, not the service's.
    const recvNs = nowNs();
    const frame = parseJsonRecord(rawText(data));
    if (!frame) return;
    const body = frame[typeof frame.event === 'string' ? frame.event : ''];
    const inner =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
    switch (frame.event) {
      case 'media':
        if (typeof inner?.payload === 'string') this.onMedia(caller, inner.payload, recvNs);
        return;
      case 'mark':
        if (typeof inner?.name === 'string') caller.echoMark(inner.name);
        return;
      case 'clear':
        caller.record.clears++;
        return;
    }
  }

  private onMedia(caller: Caller, payload: string, recvNs: number): void {
    if (!readTag(payload, this.tagScratch, this.tag)) {
      caller.record.untaggedMedia++;
      return;
    }
    this.echoesReceived++;
    if (!caller.recordEcho(this.tag.a, this.tag.b, recvNs)) return;
    // First echo: the whole path works for this call.
    caller.up = true;
    caller.record.upAtNs = recvNs;
    this.upCount++;
    if (!caller.settled) {
      caller.settled = true;
      this.settledCount++;
      this.checkSteadyStart(recvNs);
    }
  }

  private onClose(caller: Caller, code: number, reason: Buffer): void {
    caller.closed = true;
    if (caller.state === 'ended') return;
    const why = `media socket closed by the service (code ${code}${reason.length ? ` "${reason.toString()}"` : ''})`;
    if (caller.up) {
      caller.fail(`${why} during the call`);
      this.upCount--;
      this.failedCount++;
    } else {
      this.failBeforeUp(caller, why);
    }
    caller.state = 'ended';
  }

  private failBeforeUp(caller: Caller, reason: string): void {
    caller.fail(reason);
    if (caller.settled) return;
    caller.settled = true;
    this.settledCount++;
    this.failedCount++;
    this.checkSteadyStart(nowNs());
  }

  /** The steady window opens when every call is up (or has failed), or at the deadline. */
  private checkSteadyStart(now: number): void {
    if (!Number.isNaN(this.steadyStartNs)) return;
    const allSettled = this.settledCount === this.callers.length;
    const timedOut = now >= this.upDeadlineNs;
    if (!allSettled && !timedOut && now < this.sendEndNs) return;
    this.steadyStartNs = Math.min(now, this.sendEndNs);
    sendToParent({ kind: 'steady-start', callsUp: this.upCount, timedOut: !allSettled });
  }

  private async finish(): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    clearTimeout(this.timer);
    this.steadyEndNs = nowNs();
    sendToParent({ kind: 'steady-end', callsUp: this.upCount });
    for (const caller of this.callers) {
      if (caller.state === 'streaming') caller.state = 'draining';
      else if (caller.state !== 'draining' && caller.state !== 'ended') {
        this.failBeforeUp(caller, 'not up when the run ended');
      }
    }
    // Echoes of the last frames are still on their way: give them the grace period.
    await waitFor(
      () => this.callers.every((c) => !c.up || c.record.echoes >= c.record.framesSent),
      this.config.drainMs,
    );
    for (const caller of this.callers) this.hangUp(caller);
    await waitFor(() => this.callers.every((c) => c.closed || !c.socket), CLOSE_TIMEOUT_MS);
    for (const caller of this.callers) if (!caller.closed) caller.socket?.terminate();
    this.resolveDone?.(this.result());
  }

  private hangUp(caller: Caller): void {
    const wasLive = caller.state === 'draining';
    caller.state = 'ended';
    if (!caller.socket) return;
    if (wasLive) {
      caller.sendStop(this.config.accountSid);
      caller.record.completed = caller.record.failure === undefined;
    }
    if (caller.socket.readyState === WebSocket.OPEN) caller.socket.close(1000);
    else if (caller.socket.readyState === WebSocket.CONNECTING) caller.socket.terminate();
  }

  private result(): GeneratorResult {
    const loop = loopDelayMs(loopDelay);
    return {
      calls: this.callers.map(({ record }) => ({
        ...record,
        sendNs: record.sendNs.slice(0, record.framesSent),
        lateMs: record.lateMs.slice(0, record.framesSent),
      })),
      steadyStartNs: this.steadyStartNs,
      steadyEndNs: this.steadyEndNs,
      loopDelayP99Ms: loop.p99,
      loopDelayMaxMs: loop.max,
    };
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function fatal(error: unknown): void {
  sendToParent({
    kind: 'fatal',
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  process.exitCode = 1;
}

const loopDelay = monitorEventLoopDelay({ resolution: LOOP_MONITOR_RESOLUTION_MS });

function main(): void {
  let generator: LoadGenerator | undefined;
  // The orchestrator owns this process: when it goes, so do we.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: unknown) => {
    if (!isMessage<ToGenerator>(message)) return;
    switch (message.kind) {
      case 'poll':
        if (generator) sendToParent({ kind: 'progress', progress: generator.progress() });
        return;
      case 'run':
        if (generator) return;
        setClockBase(message.config.clockBase);
        loopDelay.enable();
        generator = new LoadGenerator(message.config);
        generator
          .run()
          .then((result) => {
            loopDelay.disable();
            sendToParent({ kind: 'result', result });
          })
          .catch(fatal);
        return;
    }
  });
}

main();
