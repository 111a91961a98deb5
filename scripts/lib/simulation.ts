import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import WebSocket from 'ws';
import twilio from 'twilio';
import { AudioDeviceError, Microphone, Speaker } from './audio-devices.js';
import {
  CallerAudioError,
  FRAME_BYTES,
  FRAME_MS,
  loadCallerAudio,
  MULAW_SILENCE_BYTE,
  pcm16ToMulaw,
  type CallerAudio,
} from './caller-audio.js';
import {
  CallEventFeed,
  callRecordOf,
  formatCallRecord,
  toolCallOf,
  transcriptOf,
  type CallRecord,
  type ServerSentEvent,
} from './call-events.js';
import { decodeMulawInto } from '../../src/audio/mulaw.js';
import {
  formatStatus,
  formatSummary,
  StatusLine,
  type CallStats,
  type StatusOutput,
} from './status.js';
import { fetchTwiml, parseTwiml, TwimlError, type StreamInstructions } from './twiml.js';
import { randomSid, TwilioCaller, type CloseInfo } from './twilio-caller.js';
import { encodeWavPcm16, WavError } from './wav.js';

/**
 * One simulated phone call against a running bridge, start to finish: the signed webhook, the
 * signed stream, caller audio at real-time pace, Twilio's playback emulation, the live status,
 * transcripts from the bridge's event feed, and the WAV of what the caller heard.
 */

export type CallerAudioInput =
  { kind: 'file'; path: string } | { kind: 'mulaw'; audio: CallerAudio } | { kind: 'mic' };

export interface SimulationOptions {
  /** The bridge as this machine reaches it, e.g. http://localhost:8080 (no trailing slash). */
  url: string;
  /** The bridge's PUBLIC_URL, when it has one: Twilio signs the URL it requested. */
  publicUrl?: string;
  /** Connect the media stream here instead of the TwiML's `<Stream url>`. */
  streamUrl?: string;
  authToken?: string;
  apiToken?: string;
  accountSid: string;
  callSid?: string;
  from: string;
  to: string;
  input: CallerAudioInput;
  speaker: boolean;
  outPath: string;
  /** Silence sent after the caller audio, so the assistant can answer. */
  tailMs: number;
  /** After the tail, how much longer the line stays open while the assistant is still talking. */
  maxReplyWaitMs: number;
  verbose: boolean;
}

export interface SimulationResult {
  exitCode: 0 | 1;
  endReason: string;
  callSid?: string;
  streamSid?: string;
  stats?: CallStats;
  /** The heard WAV, when one was written. */
  outPath?: string;
  /** The bridge's record of the call (`call.ended`), when its event feed was readable. */
  record?: CallRecord;
}

export class SimulationError extends Error {
  override name = 'SimulationError';
}

/** Playback and pacing resolution; frames still go out on the exact 20 ms grid. */
const TICK_MS = 10;
const STATUS_EVERY_MS = 250;
/** The assistant counts as done once nothing has arrived for this long and nothing is queued. */
const ASSISTANT_QUIET_MS = 1500;
/** After the stream closes, how long the bridge's `call.ended` may take to arrive on the feed. */
const CALL_RECORD_WAIT_MS = 3000;
/** Outcomes in the bridge's call record that mean the call did not work. */
const FAILED_OUTCOMES = new Set(['failed', 'refused']);

/** Which URL to open and which to sign: Twilio signs the URL from the TwiML, wherever we connect. */
export function streamTarget(
  twimlUrl: string,
  override?: string,
): { connectUrl: string; signedUrl: string } {
  return { connectUrl: override ?? twimlUrl, signedUrl: twimlUrl };
}

function sameHost(a: string, b: string): boolean {
  try {
    return new URL(a).host === new URL(b).host;
  } catch {
    return false;
  }
}

/** Opens the stream socket, turning a refused upgrade into a message that says what to fix. */
async function openStream(connectUrl: string, signature?: string): Promise<WebSocket> {
  const socket = new WebSocket(connectUrl, {
    headers: signature ? { 'x-twilio-signature': signature } : {},
    perMessageDeflate: false,
    handshakeTimeout: 10_000,
  });
  return new Promise<WebSocket>((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      socket.terminate();
      const why =
        status === 403
          ? 'the bridge refused the stream signature (403): the auth token is wrong, or the bridge checks a different public URL (set --public-url to its PUBLIC_URL)'
          : status === 503
            ? 'the bridge is full or shutting down (503)'
            : `HTTP ${status}`;
      reject(new SimulationError(`cannot open the media stream at ${connectUrl}: ${why}`));
    });
    socket.once('error', (error: Error & { code?: string }) => {
      reject(
        new SimulationError(
          `cannot open the media stream at ${connectUrl}: ${error.code ?? error.message}`,
        ),
      );
    });
  });
}

function describeRefusal(xml: string, says: string[], hangup: boolean, other: string[]): string {
  const parts = [
    ...says.map((text) => `<Say> "${text}"`),
    ...other.map((verb) => `<${verb}>`),
    ...(hangup ? ['<Hangup/>'] : []),
  ];
  return parts.length > 0
    ? `the bridge answered without a <Stream> (busy?): ${parts.join(', ')}`
    : `the bridge answered TwiML without a <Stream>: ${xml.slice(0, 300)}`;
}

export class Simulation {
  private readonly status: StatusLine;
  private caller?: TwilioCaller;
  private endReason?: string;
  private failed = false;
  private feed?: CallEventFeed;
  private record?: CallRecord;
  private microphone?: Microphone;
  private speaker?: Speaker;
  private hangUpRequested?: string;

  constructor(
    private readonly options: SimulationOptions,
    stderr: StatusOutput,
  ) {
    this.status = new StatusLine(stderr);
  }

  /** Ends the call as a caller hanging up would (stop, close), e.g. on Ctrl-C. */
  hangUp(reason: string): void {
    this.hangUpRequested ??= reason;
    if (this.caller) this.end(reason, false);
  }

  get inCall(): boolean {
    return this.caller !== undefined;
  }

  async run(): Promise<SimulationResult> {
    try {
      return await this.call();
    } catch (error) {
      if (isUserError(error)) {
        return { exitCode: 1, endReason: error.message };
      }
      throw error;
    } finally {
      await this.feed?.close();
      this.microphone?.stop();
      this.speaker?.stop();
    }
  }

  private note(line: string): void {
    this.status.print(line);
  }

  private async call(): Promise<SimulationResult> {
    const { options } = this;
    const input = this.prepareInput();
    if (options.speaker) {
      this.speaker = new Speaker();
      // Losing the speaker costs the live sound only; the heard WAV is still written.
      this.speaker.onFailure((message) => this.note(`warning: speaker stopped: ${message}`));
    }

    const callSid = options.callSid ?? randomSid('CA');
    const streamSid = randomSid('MZ');
    this.note(
      `calling ${options.url} as Twilio: CallSid ${callSid}, ${options.from} -> ${options.to}`,
    );
    this.note(`caller audio: ${input.description}`);
    if (!options.authToken) {
      this.note(
        'no auth token: sending unsigned requests (only a bridge with TWILIO_VALIDATE_SIGNATURES=false accepts them; set TWILIO_AUTH_TOKEN or pass --auth-token)',
      );
    }
    const xml = await fetchTwiml({
      baseUrl: options.url,
      publicUrl: options.publicUrl,
      authToken: options.authToken,
      params: {
        AccountSid: options.accountSid,
        ApiVersion: '2010-04-01',
        CallSid: callSid,
        CallStatus: 'ringing',
        Direction: 'inbound',
        From: options.from,
        To: options.to,
      },
    });
    if (options.verbose) this.note(`TwiML: ${xml}`);
    const twiml = parseTwiml(xml);
    if (!twiml.stream)
      throw new SimulationError(describeRefusal(xml, twiml.says, twiml.hangup, twiml.otherVerbs));
    if (this.hangUpRequested) return { exitCode: 1, endReason: this.hangUpRequested };
    const stream: StreamInstructions = twiml.stream;
    if (!stream.bidirectional) {
      this.note(
        'warning: the TwiML uses <Start><Stream>, a one-way fork: the bridge cannot talk back on it',
      );
    }

    const { connectUrl, signedUrl } = streamTarget(stream.url, options.streamUrl);
    if (!options.streamUrl && !sameHost(stream.url, options.url)) {
      this.note(
        `streaming to ${stream.url}, as the TwiML says (the bridge's public address; --stream-url overrides)`,
      );
    }
    const signature = options.authToken
      ? twilio.getExpectedTwilioSignature(options.authToken, signedUrl, {})
      : undefined;
    const socket = await openStream(connectUrl, signature).catch((error: unknown) => {
      if (error instanceof SimulationError && !sameHost(connectUrl, options.url)) {
        error.message += ` (to connect to the bridge directly, pass --stream-url ${mediaUrlFor(options.url)})`;
      }
      throw error;
    });

    const caller = new TwilioCaller(
      socket,
      { callSid, streamSid, accountSid: options.accountSid, customParameters: stream.parameters },
      {
        onNote: (line) => this.note(line),
        onHeard: this.speaker ? (mulaw) => this.playOnSpeaker(mulaw) : undefined,
      },
    );
    this.caller = caller;
    caller.begin();
    this.note(`media stream open: ${connectUrl} (StreamSid ${streamSid})`);
    this.openTranscripts(callSid);
    this.startMicrophone(caller);
    if (this.hangUpRequested) this.end(this.hangUpRequested, false);

    const closeInfo = await this.drive(caller, input.mulaw);
    return this.finish(caller, closeInfo);
  }

  /** Loads the caller audio (or opens the microphone) before dialling, so a bad file fails fast. */
  private prepareInput(): { mulaw?: Buffer; description: string } {
    const { input } = this.options;
    switch (input.kind) {
      case 'file': {
        const audio = loadCallerAudio(input.path);
        return { mulaw: audio.mulaw, description: `${input.path} (${audio.description})` };
      }
      case 'mulaw':
        return input.audio;
      case 'mic':
        this.microphone = new Microphone();
        return { description: `${this.microphone.description} (Ctrl-C hangs up)` };
    }
  }

  /** Runs the clock until the socket closes: caller frames, playback, status, hang-up. */
  private async drive(caller: TwilioCaller, fileAudio: Buffer | undefined): Promise<CloseInfo> {
    const fileFrames = fileAudio ? Math.ceil(fileAudio.length / FRAME_BYTES) : 0;
    const tailFrames = Math.ceil(this.options.tailMs / FRAME_MS);
    const lastWaitFrame =
      fileFrames + tailFrames + Math.ceil(this.options.maxReplyWaitMs / FRAME_MS);
    let lastStatusAt = -Infinity;

    const tick = () => {
      if (fileAudio && caller.isOpen) {
        // Drift-free: the number of frames sent follows the wall clock since start, so a late
        // timer sends the overdue frames at once instead of slipping the whole schedule.
        const due = caller.framesDue();
        while (caller.framesSent < due && caller.isOpen && !this.endReason) {
          const k = caller.framesSent;
          caller.sendAudio(k < fileFrames ? frameOf(fileAudio, k) : silenceFrame());
        }
        const sent = caller.framesSent;
        // Until the assistant has said something, the caller stays on the line (up to the reply
        // wait): a bridge still retrying its model connection must get the chance to say so.
        const replied = caller.stats().receivedMs > 0;
        if (
          replied &&
          sent >= fileFrames + tailFrames &&
          !caller.assistantBusy(ASSISTANT_QUIET_MS)
        ) {
          this.end('caller audio and tail sent', false);
        } else if (sent >= lastWaitFrame) {
          this.end('caller audio and tail sent (the assistant was still talking)', false);
        }
      }
      caller.advancePlayback();
      if (caller.elapsedMs() - lastStatusAt >= STATUS_EVERY_MS) {
        lastStatusAt = caller.elapsedMs();
        this.status.update(formatStatus(caller.stats()));
      }
    };
    const timer = setInterval(tick, TICK_MS);
    try {
      return await caller.closed;
    } finally {
      clearInterval(timer);
    }
  }

  private end(reason: string, failed: boolean): void {
    if (this.endReason) return;
    this.endReason = reason;
    this.failed = failed;
    this.caller?.hangUp();
  }

  private async finish(caller: TwilioCaller, close: CloseInfo): Promise<SimulationResult> {
    caller.advancePlayback();
    if (this.feed) {
      await this.feed.waitFor(() => this.record !== undefined, CALL_RECORD_WAIT_MS);
      await this.feed.close();
    }
    if (!close.byCaller) {
      const normal = close.code === 1000 || close.code === 1005;
      this.endReason ??= normal
        ? `the bridge closed the stream (${close.code}${close.reason ? ` ${close.reason}` : ''})`
        : `the call failed: ${close.reason || `the bridge closed the stream with code ${close.code}`}`;
      this.failed ||= !normal;
    }
    // The bridge's own verdict wins: a call it ended as failed did not work, however it closed.
    if (this.record && FAILED_OUTCOMES.has(this.record.outcome)) {
      this.failed = true;
      this.endReason = `the call failed: ${this.record.reason}`;
    }
    const stats = caller.stats();
    let outPath: string | undefined = this.options.outPath;
    try {
      mkdirSync(dirname(outPath), { recursive: true });
      writeFileSync(outPath, encodeWavPcm16(caller.heardPcm(), 8000));
    } catch (error) {
      this.note(`error: cannot write ${outPath}: ${(error as Error).message}`);
      outPath = undefined;
      this.failed = true;
    }
    this.status.finish(formatStatus(stats));
    this.note(formatSummary(stats, outPath ?? '(not written)', this.endReason ?? 'ended'));
    if (this.record) this.note(formatCallRecord(this.record));
    return {
      exitCode: this.failed ? 1 : 0,
      endReason: this.endReason ?? 'ended',
      callSid: caller.identity.callSid,
      streamSid: caller.identity.streamSid,
      stats,
      outPath,
      record: this.record,
    };
  }

  private openTranscripts(callSid: string): void {
    const { apiToken, url, verbose } = this.options;
    if (!apiToken) {
      this.note(
        "transcripts: not shown; pass --api-token (or set API_TOKEN) to the bridge's API_TOKEN to see them",
      );
      return;
    }
    this.feed = new CallEventFeed({
      baseUrl: url,
      callSid,
      apiToken,
      onNote: (line) => this.note(line),
      onEvent: (event: ServerSentEvent) => {
        const transcript = transcriptOf(event);
        const tool = toolCallOf(event);
        const record = callRecordOf(event);
        if (transcript) this.note(`${transcript.role}: ${transcript.text}`);
        else if (tool) this.note(tool);
        else if (record) this.record = record;
        else if (verbose) this.note(`${event.event} ${event.data}`);
      },
    });
    this.feed.open();
  }

  private startMicrophone(caller: TwilioCaller): void {
    const microphone = this.microphone;
    if (!microphone) return;
    let pending = Buffer.alloc(0);
    microphone.pcm.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // The microphone is the clock here: each 20 ms of PCM16 (320 bytes) goes out as it is captured.
      while (pending.length >= FRAME_BYTES * 2) {
        const frame = pending.subarray(0, FRAME_BYTES * 2);
        pending = pending.subarray(FRAME_BYTES * 2);
        const pcm = new Int16Array(FRAME_BYTES);
        for (let i = 0; i < FRAME_BYTES; i++) pcm[i] = frame.readInt16LE(i * 2);
        caller.sendAudio(pcm16ToMulaw(pcm));
      }
    });
    microphone.onFailure((message) => {
      this.note(`error: microphone failed: ${message}`);
      this.end('the microphone failed', true);
    });
  }

  private playOnSpeaker(mulaw: Buffer): void {
    const pcm = new Int16Array(mulaw.length);
    decodeMulawInto(mulaw, pcm);
    // Int16Array bytes are in platform order: little-endian on every platform Node supports.
    this.speaker?.write(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  }
}

function frameOf(audio: Buffer, index: number): Buffer {
  const frame = audio.subarray(index * FRAME_BYTES, (index + 1) * FRAME_BYTES);
  if (frame.length === FRAME_BYTES) return frame;
  // The file's last frame, padded with silence to a whole 20 ms.
  return Buffer.concat([frame, Buffer.alloc(FRAME_BYTES - frame.length, MULAW_SILENCE_BYTE)]);
}

function silenceFrame(): Buffer {
  return Buffer.alloc(FRAME_BYTES, MULAW_SILENCE_BYTE);
}

/** ws(s)://host/media-stream for a bridge base URL. */
export function mediaUrlFor(baseUrl: string): string {
  const url = new URL(baseUrl);
  return `${url.protocol === 'https:' ? 'wss' : 'ws'}://${url.host}/media-stream`;
}

/** Errors that mean "fix your setup", reported as one line; anything else is a bug and throws. */
function isUserError(error: unknown): error is Error {
  return [SimulationError, TwimlError, CallerAudioError, AudioDeviceError, WavError].some(
    (type) => error instanceof type,
  );
}
