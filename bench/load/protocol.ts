/**
 * What the three load-bench processes share: the run configuration, the IPC messages, the clock
 * and the frame tag. The orchestrator (bench/load.bench.ts) forks the fake Realtime server
 * (fake-realtime.ts) and the caller load generator (generator.ts) with `serialization:
 * 'advanced'`, so per-frame records travel as typed arrays, not as arrays of objects.
 */
import type { RawData } from 'ws';

export type InputFormat = 'pcm16' | 'g711_ulaw';

/** One Twilio media frame: 20 ms of 8 kHz mu-law. */
export const FRAME_MS = 20;
export const FRAME_NS = FRAME_MS * 1_000_000;
export const FRAME_BYTES = 160;

/**
 * All three processes time-stamp with `process.hrtime.bigint()`, which is CLOCK_MONOTONIC on
 * Linux and so comparable across processes. Times are kept as float ns since a base the
 * orchestrator picks, because raw boot-relative ns exceed 2^53 (exact doubles) after ~104 days
 * of uptime, and Float64Array is what the records are stored in.
 */
let clockBase = 0n;

export function setClockBase(base: string): void {
  clockBase = BigInt(base);
}

export function nowNs(): number {
  return Number(process.hrtime.bigint() - clockBase);
}

/**
 * A tag is the first 9 bytes of a mu-law payload: a marker byte, then two big-endian u32. Any
 * byte is valid mu-law, so a tagged payload is still audio. 9 bytes is exactly 12 base64
 * characters, so a tag can be read from a payload's first 12 characters without decoding the
 * rest, and written by prefixing 12 characters to a precomputed base64 tail.
 *
 * - inbound (caller -> service, g711_ulaw only): (call index, frame number)
 * - outbound (fake -> service -> caller): (fake connection id, append number)
 */
export const TAG_BYTES = 9;
export const TAG_BASE64_CHARS = 12;
const TAG_MARKER = 0xa5;

export interface Tag {
  a: number;
  b: number;
}

/** Encodes (a, b) as the 12 base64 characters that start a tagged payload. */
export function tagBase64(scratch: Buffer, a: number, b: number): string {
  scratch[0] = TAG_MARKER;
  scratch.writeUInt32BE(a >>> 0, 1);
  scratch.writeUInt32BE(b >>> 0, 5);
  return scratch.toString('base64', 0, TAG_BYTES);
}

/** Reads the tag at `offset` of raw audio bytes into `out`; false when there is none. */
export function readTagAt(bytes: Buffer, offset: number, out: Tag): boolean {
  if (bytes.length - offset < TAG_BYTES || bytes[offset] !== TAG_MARKER) return false;
  out.a = bytes.readUInt32BE(offset + 1);
  out.b = bytes.readUInt32BE(offset + 5);
  return true;
}

/** Reads the tag at the start of a base64 payload into `out`; false when there is none. */
export function readTag(payloadBase64: string, scratch: Buffer, out: Tag): boolean {
  if (payloadBase64.length < TAG_BASE64_CHARS) return false;
  const length = scratch.write(payloadBase64.slice(0, TAG_BASE64_CHARS), 0, 'base64');
  if (length !== TAG_BYTES || scratch[0] !== TAG_MARKER) return false;
  out.a = scratch.readUInt32BE(1);
  out.b = scratch.readUInt32BE(5);
  return true;
}

export interface FakeConfig {
  clockBase: string;
  format: InputFormat;
  /** Size of each connection's per-append record arrays. */
  maxFrames: number;
  /** 0: each frame echoed at once; else echoes leave in bursts this many ms apart. */
  echoBurstMs: number;
}

export interface GeneratorConfig {
  clockBase: string;
  serviceBaseUrl: string;
  authToken: string;
  accountSid: string;
  calls: number;
  seconds: number;
  format: InputFormat;
  /** Calls are dialled evenly over this many ms from the start of the run. */
  rampMs: number;
  /** After the ramp, how long calls may take to come up before the window opens anyway. */
  upTimeoutMs: number;
  /** After the last frame, how long to wait for echoes still in flight. */
  drainMs: number;
  maxFrames: number;
}

/** What the generator knows about one call when the run ends. */
export interface CallerRecord {
  index: number;
  callSid: string;
  /** Fake connection serving this call, learned from the echoes' tags; -1 if none came. */
  connId: number;
  framesSent: number;
  /** Send time of frame k (ns since the clock base). */
  sendNs: Float64Array;
  /** How late frame k left compared with its slot on the 20 ms grid (ms). */
  lateMs: Float32Array;
  /** Receive time of the echo of append k (NaN: never came). */
  echoRecvNs: Float64Array;
  echoes: number;
  echoReordered: number;
  echoDuplicates: number;
  /** Echoes tagged with another connection than the call's own: audio of someone else's call. */
  crossTalk: number;
  untaggedMedia: number;
  marksEchoed: number;
  clears: number;
  upAtNs: number;
  /** Set when the call did not run to the end as planned. */
  failure?: string;
  /** True when the call ended with our own `stop` (not closed early by the service). */
  completed: boolean;
}

export interface GeneratorResult {
  calls: CallerRecord[];
  steadyStartNs: number;
  steadyEndNs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

/** What the fake Realtime server knows about one connection when asked. */
export interface ConnectionRecord {
  connId: number;
  /**
   * 20 ms frames of caller audio received. An append may carry several (a service that
   * coalesces caller audio, INPUT_AUDIO_CHUNK_MS): each is recorded, checked and echoed alone.
   */
  frames: number;
  /** `input_audio_buffer.append` messages that carried them. */
  appendMessages: number;
  /** Receive time of frame k (that of the append that carried it). */
  recvNs: Float64Array;
  /** Send time of the echo of frame k (NaN: the socket had closed). */
  echoNs: Float64Array;
  echoes: number;
  /** g711_ulaw: call index from the frames' tags (-1: none seen). */
  tagCall: number;
  /** g711_ulaw: frame number carried by frame k (-1: untagged). */
  tagFrame: Int32Array;
  /** g711_ulaw: frames tagged with another call than the first one seen. */
  tagCallMismatches: number;
  /** pcm16: frames whose level was not the one their position predicts (see audio.ts). */
  levelMismatches: number;
  /** Appends that are not whole frames (pcm16: 960 bytes each; g711_ulaw: 160). */
  badSize: number;
  overflow: number;
  sessionUpdates: number;
  authorized: boolean;
  model: string;
}

export interface FakeResult {
  connections: ConnectionRecord[];
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export interface Progress {
  elapsedMs: number;
  callsUp: number;
  callsFailed: number;
  framesSent: number;
  echoesReceived: number;
}

export interface FakeProgress {
  connections: number;
  /** 20 ms frames received (see ConnectionRecord.frames). */
  frames: number;
  echoes: number;
}

/** `poll` asks for progress: both tools answer at once, so their counts are comparable. */
export type ToFake = { kind: 'run'; config: FakeConfig } | { kind: 'poll' } | { kind: 'collect' };
export type FromFake =
  | { kind: 'listening'; port: number }
  | { kind: 'progress'; progress: FakeProgress }
  | { kind: 'result'; result: FakeResult };

export type ToGenerator = { kind: 'run'; config: GeneratorConfig } | { kind: 'poll' };
export type FromGenerator =
  | { kind: 'progress'; progress: Progress }
  | { kind: 'steady-start'; callsUp: number; timedOut: boolean }
  | { kind: 'steady-end'; callsUp: number }
  | { kind: 'result'; result: GeneratorResult }
  | { kind: 'fatal'; message: string };

/** IPC messages come from our own processes; checking the discriminant is enough. */
export function isMessage<T extends { kind: string }>(value: unknown): value is T {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { kind?: unknown }).kind === 'string'
  );
}

/** Sends over IPC; a no-op when the parent has gone (the process then exits on 'disconnect'). */
export function sendToParent(message: FromFake | FromGenerator): void {
  if (process.connected) process.send?.(message);
}

/** A WebSocket message as text (ws hands text frames over as Buffers by default). */
export function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString();
  return Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data).toString();
}

/** A parsed JSON message as a plain record, or undefined. */
export function parseJsonRecord(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Resolution of the event-loop delay monitors (ms): the finest Node's timers offer. */
export const LOOP_MONITOR_RESOLUTION_MS = 1;

/**
 * p99 / max of a `monitorEventLoopDelay` histogram in ms. It records whole intervals between
 * its timer's runs, so the timer's own period is taken off to leave the delay.
 */
export function loopDelayMs(histogram: { percentile(p: number): number; max: number }): {
  p99: number;
  max: number;
} {
  const delay = (ns: number) => Math.max(0, ns / 1e6 - LOOP_MONITOR_RESOLUTION_MS);
  return { p99: delay(histogram.percentile(99)), max: delay(histogram.max) };
}
