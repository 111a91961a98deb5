/**
 * bench:recording (issue 27): the CPU a recording adds per call-second, measured alone so that
 * a shared, noisy machine does not drown it (bench:compare -- --recording on gives the same
 * comparison end to end, with all its noise). Records `--calls` calls of `--seconds` each, as
 * the audio tap feeds a recording: a caller frame (base64 from Twilio, decoded) every 20 ms and
 * as much heard assistant audio, to real files in a temporary directory, and reports the
 * process's CPU (every thread: the disk writes too) per recorded call-second.
 *   npm run bench:recording -- [--calls 50] [--seconds 60]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallRecording } from '../src/recording/call-recording.js';
import { flagValues, optionsOrExit, UsageError } from './lib/cli.js';

const USAGE = 'usage: npm run bench:recording -- [--calls 50] [--seconds 60]';
const FRAME_MS = 20;

function parseOptions(argv: string[]): { calls: number; seconds: number } {
  const values = flagValues(argv, ['calls', 'seconds'], USAGE);
  const integer = (name: string, fallback: number, max: number): number => {
    const value = Number(values.get(name) ?? fallback);
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new UsageError(`--${name} must be a whole number from 1 to ${max}\n${USAGE}`);
    }
    return value;
  };
  return { calls: integer('calls', 50, 1000), seconds: integer('seconds', 60, 3600) };
}

async function main(): Promise<void> {
  const { calls, seconds } = optionsOrExit(parseOptions);
  const dir = mkdtempSync(join(tmpdir(), 'bench-recording-'));
  // Speech-like enough: every byte value, so the decode does real lookups.
  const frame = Buffer.alloc(160);
  for (let i = 0; i < frame.length; i++) frame[i] = (i * 37) & 0xff;
  const payload = frame.toString('base64');
  try {
    const finished: Promise<unknown>[] = [];
    const recordings = Array.from(
      { length: calls },
      (_, n) =>
        new CallRecording(`CA${n}`, join(dir, `CA${n}.wav`), seconds * 1000 + 1000, (r) => {
          finished.push(r.finish());
        }),
    );
    const start = process.cpuUsage();
    const wallStart = performance.now();
    for (let atMs = 0; atMs < seconds * 1000; atMs += FRAME_MS) {
      for (const recording of recordings) {
        recording.callerAudio(Buffer.from(payload, 'base64'), atMs);
        recording.assistantAudio(frame, atMs + 7);
      }
      // Let the write queues drain as they would between frames.
      if ((atMs / FRAME_MS) % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    for (const recording of recordings) recording.ended();
    await Promise.all(finished);
    const used = process.cpuUsage(start);
    const cpuMs = (used.user + used.system) / 1000;
    const callSeconds = calls * seconds;
    console.log(
      `${calls} calls x ${seconds} s recorded in ${(performance.now() - wallStart).toFixed(0)} ms: ` +
        `${cpuMs.toFixed(0)} ms CPU, ${(cpuMs / callSeconds).toFixed(3)} ms per call-second`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
