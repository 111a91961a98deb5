import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Optional live audio through external programs (sox's rec/play, or ALSA's arecord/aplay), all
 * raw 8 kHz signed 16-bit little-endian mono. Nothing here runs unless --mic or --speaker is
 * given, so the simulator needs no audio hardware or packages by default.
 */

interface DeviceCommand {
  command: string;
  args: string[];
}

const MIC_COMMANDS: DeviceCommand[] = [
  {
    command: 'rec',
    args: ['-q', '-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', '-L', '-'],
  },
  { command: 'arecord', args: ['-q', '-t', 'raw', '-f', 'S16_LE', '-r', '8000', '-c', '1', '-'] },
];

const SPEAKER_COMMANDS: DeviceCommand[] = [
  {
    command: 'play',
    args: ['-q', '-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', '-L', '-'],
  },
  { command: 'aplay', args: ['-q', '-t', 'raw', '-f', 'S16_LE', '-r', '8000', '-c', '1', '-'] },
];

export class AudioDeviceError extends Error {
  override name = 'AudioDeviceError';
}

export function findOnPath(command: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function pick(commands: DeviceCommand[], flag: string): DeviceCommand {
  const found = commands.find((candidate) => findOnPath(candidate.command) !== undefined);
  if (!found) {
    const names = commands.map((candidate) => candidate.command).join(' or ');
    throw new AudioDeviceError(
      `${flag} needs ${names} on PATH (install sox, or alsa-utils on Linux), or leave ${flag} out`,
    );
  }
  return found;
}

export interface AudioDevice {
  readonly description: string;
  stop(): void;
  /** Called once if the program exits or fails before `stop()`. */
  onFailure(listener: (message: string) => void): void;
}

abstract class DeviceProcess implements AudioDevice {
  protected readonly child: ChildProcess;
  private stopped = false;
  private failureListener?: (message: string) => void;
  private failure?: string;
  private stderrTail = '';

  constructor(
    readonly description: string,
    spec: DeviceCommand,
    stdio: ['ignore', 'pipe', 'pipe'] | ['pipe', 'ignore', 'pipe'],
  ) {
    this.child = spawn(spec.command, spec.args, { stdio });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-300);
    });
    this.child.on('error', (error) => this.fail(`${spec.command}: ${error.message}`));
    this.child.on('exit', (code, signal) => {
      const detail = this.stderrTail.trim();
      this.fail(
        `${spec.command} exited (${signal ?? `code ${code}`})${detail ? `: ${detail}` : ''}`,
      );
    });
  }

  private fail(message: string): void {
    if (this.stopped || this.failure !== undefined) return;
    this.failure = message;
    this.failureListener?.(message);
  }

  onFailure(listener: (message: string) => void): void {
    this.failureListener = listener;
    // It may have failed already (a spawn error arrives on the next tick).
    if (this.failure !== undefined) listener(this.failure);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.child.stdin?.end();
    this.child.kill('SIGTERM');
  }
}

/** The microphone: 8 kHz PCM16 from `rec` or `arecord` on stdout. */
export class Microphone extends DeviceProcess {
  constructor() {
    const spec = pick(MIC_COMMANDS, '--mic');
    super(`microphone via ${spec.command}`, spec, ['ignore', 'pipe', 'pipe']);
  }

  get pcm(): Readable {
    return this.child.stdout!;
  }
}

/** The speaker: 8 kHz PCM16 to `play` or `aplay` on stdin. */
export class Speaker extends DeviceProcess {
  constructor() {
    const spec = pick(SPEAKER_COMMANDS, '--speaker');
    super(`speaker via ${spec.command}`, spec, ['pipe', 'ignore', 'pipe']);
    // A speaker that went away must not crash the call with EPIPE.
    this.child.stdin?.on('error', () => undefined);
  }

  write(pcm: Buffer): void {
    if (this.child.stdin?.writable) this.child.stdin.write(pcm);
  }
}
